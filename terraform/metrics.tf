# Log-based metrics from the functions' structured log lines (functions/src/log/logger.ts).

# Events a webhook's `filter` kept out: the dispatcher logs one line per (event, webhook) with
# `filtered: true` and writes no delivery record, so this metric is where they are counted.
resource "google_logging_metric" "filtered_events" {
  project     = var.project_id
  name        = "hookshape/filtered_events"
  description = "Events not delivered to a webhook because its filter did not match (no delivery record is written)."
  filter      = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${google_cloudfunctions2_function.dispatch.name}\" AND jsonPayload.filtered=true"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
    labels {
      key         = "webhook_id"
      value_type  = "STRING"
      description = "The webhook whose filter kept the event out."
    }
    labels {
      key         = "account_id"
      value_type  = "STRING"
      description = "The account of the webhook."
    }
  }

  label_extractors = {
    webhook_id = "EXTRACT(jsonPayload.webhookId)"
    account_id = "EXTRACT(jsonPayload.accountId)"
  }

  depends_on = [google_project_service.apis]
}
