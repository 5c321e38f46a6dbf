locals {
  required_apis = [
    "artifactregistry.googleapis.com",     # images of the functions
    "cloudbuild.googleapis.com",           # builds the functions from source
    "cloudfunctions.googleapis.com",       # Cloud Functions (gen2)
    "cloudresourcemanager.googleapis.com", # project IAM bindings, project number
    "cloudscheduler.googleapis.com",       # runs the repair sweep
    "cloudtasks.googleapis.com",           # retry queue
    "eventarc.googleapis.com",             # Pub/Sub and Firestore triggers of gen2 functions
    "firestore.googleapis.com",            # webhooks, delivery log
    "iam.googleapis.com",                  # service accounts
    "logging.googleapis.com",              # log-based metrics (metrics.tf)
    "monitoring.googleapis.com",           # alert policies and the dashboard (alerts.tf, dashboard.tf)
    "pubsub.googleapis.com",               # events topic
    "run.googleapis.com",                  # gen2 functions run as Cloud Run services
    "secretmanager.googleapis.com",        # {{ secrets.NAME }} in templates
    "storage.googleapis.com",              # function source bucket
  ]
}

resource "google_project_service" "apis" {
  for_each = toset(local.required_apis)

  project = var.project_id
  service = each.value

  # Destroying this configuration must not switch APIs off for whatever else uses the project.
  disable_on_destroy         = false
  disable_dependent_services = false
}
