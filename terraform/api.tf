# The management API (functions/src/api): HTTP, JSON under /v1, the OpenAPI document at
# /v1/openapi.json. Open to the internet on purpose: the function authenticates every request itself
# (platform API keys stored as hashes, customer tokens signed with the keys in the secret below) and
# refuses everything else with 401/404; IAM cannot express per-account credentials. This is the only
# allUsers binding of the deployment (npm test checks that).

resource "google_service_account" "api" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-api"
  display_name = "hookshape management API"
  description  = "Runtime identity of the management API function (api)."

  depends_on = [google_project_service.apis]
}

# The customer-token signing keys, {"keys": [private JWKs with kid]}. Terraform creates the secret,
# never its value (it would land in the state): add the first version with the command in the
# api_jwt_keys_command output. Only the api function can read it.
resource "google_secret_manager_secret" "api_jwt_keys" {
  project   = var.project_id
  secret_id = var.api_jwt_keys_secret

  replication {
    auto {}
  }

  depends_on = [google_project_service.apis]
}

resource "google_secret_manager_secret_iam_member" "api_jwt_keys_reader" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.api_jwt_keys.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.api.email}"
}

# Webhooks, the delivery log, API keys, recover jobs, audit entries.
resource "google_project_iam_member" "api_firestore" {
  project = var.project_id
  role    = "roles/datastore.user"
  member  = "serviceAccount:${google_service_account.api.email}"
}

# Replays and bulk recover enqueue retry tasks, which carry the tasks invoker's OIDC token.
resource "google_cloud_tasks_queue_iam_member" "api_enqueuer" {
  project  = var.project_id
  location = google_cloud_tasks_queue.retries.location
  name     = google_cloud_tasks_queue.retries.name
  role     = "roles/cloudtasks.enqueuer"
  member   = "serviceAccount:${google_service_account.api.email}"
}

resource "google_service_account_iam_member" "api_act_as_invoker" {
  service_account_id = google_service_account.tasks_invoker.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.api.email}"
}

# A test send reads the account's secrets like a delivery: hookshape-- secrets only.
resource "google_project_iam_member" "api_secret_accessor" {
  project = var.project_id
  role    = "roles/secretmanager.secretAccessor"
  member  = "serviceAccount:${google_service_account.api.email}"

  condition {
    title       = "hookshape-secrets-only"
    description = "Only Secret Manager secrets named ${local.secret_name_prefix}<accountId>--<NAME>."
    expression  = "resource.name.startsWith(\"projects/${local.project_number}/secrets/${local.secret_name_prefix}\")"
  }
}

resource "google_project_iam_member" "api_secret_lister" {
  project = var.project_id
  role    = google_project_iam_custom_role.secret_lister.name
  member  = "serviceAccount:${google_service_account.api.email}"
}

# Setting or rotating a webhook's signing secret creates hookshape--<accountId>--<NAME> and adds a
# version; both permissions in a custom role, limited to hookshape-- secrets by the same condition.
resource "google_project_iam_custom_role" "secret_writer" {
  project     = var.project_id
  role_id     = "${replace(var.name_prefix, "-", "_")}_secret_writer"
  title       = "hookshape secret writer"
  description = "Create hookshape-- secrets and add versions (the management API's signing-secret writes)."
  permissions = ["secretmanager.secrets.create", "secretmanager.versions.add"]

  depends_on = [google_project_service.apis]
}

resource "google_project_iam_member" "api_secret_writer" {
  project = var.project_id
  role    = google_project_iam_custom_role.secret_writer.name
  member  = "serviceAccount:${google_service_account.api.email}"

  condition {
    title       = "hookshape-secrets-only"
    description = "Only Secret Manager secrets named ${local.secret_name_prefix}<accountId>--<NAME>."
    expression  = "resource.name.startsWith(\"projects/${local.project_number}/secrets/${local.secret_name_prefix}\")"
  }
}

resource "google_cloudfunctions2_function" "api" {
  name        = var.api_function_name
  project     = var.project_id
  location    = var.region
  description = "hookshape: the management API (webhooks, deliveries, replays, portal sessions)."

  build_config {
    runtime           = var.function_runtime
    entry_point       = "api"
    service_account   = local.function_build_service_account
    docker_repository = local.function_docker_repository
    source {
      storage_source {
        bucket = local.function_source.bucket
        object = local.function_source.object
      }
    }
  }

  service_config {
    service_account_email            = google_service_account.api.email
    available_memory                 = var.function_memory
    available_cpu                    = var.function_cpu
    max_instance_count               = var.api_max_instances
    max_instance_request_concurrency = var.api_concurrency
    timeout_seconds                  = 60
    ingress_settings                 = "ALLOW_ALL"
    all_traffic_on_latest_revision   = true
    environment_variables            = local.function_environment
  }

  depends_on = [
    google_project_service.apis,
    google_project_iam_member.build_log_writer,
    google_project_iam_member.build_source_reader,
    google_artifact_registry_repository_iam_member.build_image_writer,
    google_project_iam_member.api_firestore,
    google_secret_manager_secret_iam_member.api_jwt_keys_reader,
  ]
}

resource "google_cloud_run_service_iam_member" "api_public" {
  project  = var.project_id
  location = google_cloudfunctions2_function.api.location
  service  = google_cloudfunctions2_function.api.name
  role     = "roles/run.invoker"
  member   = "allUsers"
}
