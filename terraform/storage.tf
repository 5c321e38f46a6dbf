# The functions' source: `npm run build` writes build/functions/ (an esbuild bundle, and a package.json
# listing the few packages left outside it); it is zipped here and uploaded, and Cloud Build installs
# those and builds the image (nodejs22) when a function is deployed.

data "archive_file" "functions" {
  type        = "zip"
  source_dir  = "${path.module}/../build/functions"
  output_path = "${path.module}/.build/hookshape-functions.zip"
  # Cloud Build runs npm itself; a local node_modules would only bloat the upload, and the source maps
  # are for local debugging (globs: archive >= 2.5).
  excludes = ["node_modules", "node_modules/**", "*.map"]

  lifecycle {
    precondition {
      condition     = fileexists("${path.module}/../build/functions/package.json") && fileexists("${path.module}/../build/functions/index.js")
      error_message = "build/functions/ is missing or incomplete: run `npm run build` in the repository root before terraform plan/apply."
    }
  }
}

resource "google_storage_bucket" "source" {
  name     = "${var.project_id}-${var.name_prefix}-source"
  project  = var.project_id
  location = var.region

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  # Holds nothing but build inputs: destroy may empty it.
  force_destroy = true

  depends_on = [google_project_service.apis]
}

resource "google_storage_bucket_object" "functions" {
  # Named by content: a new build gives a new object name, which makes Terraform redeploy the
  # functions; an unchanged build changes nothing.
  name   = "functions-${data.archive_file.functions.output_md5}.zip"
  bucket = google_storage_bucket.source.name
  source = data.archive_file.functions.output_path
}

# Images built from that source. A repository of our own (instead of the gcf-artifacts one Cloud
# Functions would create) lets the build service account write here and nowhere else, and the cleanup
# policies keep it from growing with every deploy.
resource "google_artifact_registry_repository" "functions" {
  project       = var.project_id
  location      = var.region
  repository_id = "${var.name_prefix}-functions"
  format        = "DOCKER"
  description   = "Images of the hookshape functions, built by Cloud Build on deploy."

  cleanup_policy_dry_run = false

  # KEEP wins over DELETE: the 5 newest versions of each image stay whatever their age.
  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 5
    }
  }

  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"
    condition {
      older_than = "2592000s" # 30 days
    }
  }

  depends_on = [google_project_service.apis]
}
