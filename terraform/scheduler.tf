# The repair sweep on a schedule: Cloud Scheduler POSTs to the repair function with an OIDC token of
# its own service account, the only principal allowed to invoke it (iam.tf). A run that fails is not
# retried: the next scheduled run looks again, and every recovery is idempotent.
resource "google_cloud_scheduler_job" "repair" {
  project     = var.project_id
  region      = var.region
  name        = "${var.name_prefix}-repair"
  description = "hookshape: moves on deliveries left pending or retrying without a live owner."
  schedule    = var.repair_schedule
  time_zone   = var.repair_time_zone

  # Below the function's 300 s timeout.
  attempt_deadline = "280s"

  retry_config {
    retry_count = 0
  }

  http_target {
    http_method = "POST"
    uri         = google_cloudfunctions2_function.repair.url
    headers     = { "Content-Type" = "application/json" }
    body        = base64encode(jsonencode({ dryRun = false }))

    oidc_token {
      service_account_email = google_service_account.repair_scheduler.email
      audience              = google_cloudfunctions2_function.repair.url
    }
  }

  depends_on = [
    google_project_service.apis,
    google_cloud_run_service_iam_member.repair_invoker,
  ]
}
