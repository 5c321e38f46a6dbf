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

locals {
  # The Cloud Run services of the functions that write delivery lines (the api's test sends are left out).
  delivery_services_filter = "resource.type=\"cloud_run_revision\" AND (resource.labels.service_name=\"${google_cloudfunctions2_function.dispatch.name}\" OR resource.labels.service_name=\"${google_cloudfunctions2_function.retry_worker.name}\" OR resource.labels.service_name=\"${google_cloudfunctions2_function.repair.name}\")"
  attempt_services_filter  = "resource.type=\"cloud_run_revision\" AND (resource.labels.service_name=\"${google_cloudfunctions2_function.dispatch.name}\" OR resource.labels.service_name=\"${google_cloudfunctions2_function.retry_worker.name}\")"
}

# One line per delivery that ended (delivery/commit.ts logCommitted): `deliveryOutcome` is succeeded,
# failed or invalid, `errorCode` why. The failure-ratio alert divides the failed ones by all of them.
resource "google_logging_metric" "deliveries" {
  project     = var.project_id
  name        = "hookshape/deliveries"
  description = "Deliveries that ended, by outcome (succeeded, failed, invalid), error code and account."
  filter      = "${local.delivery_services_filter} AND jsonPayload.deliveryOutcome:*"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
    labels {
      key         = "outcome"
      value_type  = "STRING"
      description = "succeeded, failed or invalid."
    }
    labels {
      key         = "error_code"
      value_type  = "STRING"
      description = "Why it failed or was invalid (the record's errorCode); empty when it succeeded."
    }
    labels {
      key         = "account_id"
      value_type  = "STRING"
      description = "The account of the webhook."
    }
  }

  label_extractors = {
    outcome    = "EXTRACT(jsonPayload.deliveryOutcome)"
    error_code = "EXTRACT(jsonPayload.errorCode)"
    account_id = "EXTRACT(jsonPayload.accountId)"
  }

  depends_on = [google_project_service.apis]
}

# One line per attempt whose answer is in hand (delivery/run-attempts.ts), with its duration in ms.
resource "google_logging_metric" "attempt_latency" {
  project         = var.project_id
  name            = "hookshape/attempt_latency"
  description     = "Duration of each delivery attempt (request to answer or error), in milliseconds, by outcome and target."
  filter          = "${local.attempt_services_filter} AND jsonPayload.durationMs>=0 AND jsonPayload.outcome:*"
  value_extractor = "EXTRACT(jsonPayload.durationMs)"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "DISTRIBUTION"
    unit        = "ms"
    labels {
      key         = "outcome"
      value_type  = "STRING"
      description = "succeeded, retryable or failed."
    }
    labels {
      key         = "target"
      value_type  = "STRING"
      description = "primary or backup."
    }
  }

  label_extractors = {
    outcome = "EXTRACT(jsonPayload.outcome)"
    target  = "EXTRACT(jsonPayload.target)"
  }

  bucket_options {
    exponential_buckets {
      num_finite_buckets = 32
      growth_factor      = 1.4
      scale              = 5
    }
  }

  depends_on = [google_project_service.apis]
}

# One line per retry written and enqueued (delivery/commit.ts logCommitted, retryScheduled: true).
resource "google_logging_metric" "retries_scheduled" {
  project     = var.project_id
  name        = "hookshape/retries_scheduled"
  description = "Retries scheduled through Cloud Tasks (by a failed attempt, a takeover or the repair sweep), by account."
  filter      = "${local.delivery_services_filter} AND jsonPayload.retryScheduled=true"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
    labels {
      key         = "account_id"
      value_type  = "STRING"
      description = "The account of the webhook."
    }
  }

  label_extractors = {
    account_id = "EXTRACT(jsonPayload.accountId)"
  }

  depends_on = [google_project_service.apis]
}

# Unreadable messages (`invalid: "event"`, recorded in invalidEvents) and webhook documents that cannot
# be delivered (`invalid: "webhook"`: a delivery ended invalid_webhook, or a webhook skipped because
# its stored validation failed).
resource "google_logging_metric" "invalid_events" {
  project     = var.project_id
  name        = "hookshape/invalid_events"
  description = "Malformed event messages and events met by an invalid webhook document, by kind (event, webhook)."
  filter      = "${local.attempt_services_filter} AND (jsonPayload.invalid=\"event\" OR jsonPayload.invalid=\"webhook\")"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
    labels {
      key         = "kind"
      value_type  = "STRING"
      description = "event (the message could not be read) or webhook (the webhook document is invalid)."
    }
  }

  label_extractors = {
    kind = "EXTRACT(jsonPayload.invalid)"
  }

  depends_on = [google_project_service.apis]
}

# Webhooks disabled automatically after consecutive failed deliveries (delivery/commit.ts): the account
# is told (hookshape.webhook.disabled); this shows operators how often, and for whom. By the dispatcher
# and the retry worker, whichever ended the delivery that reached the threshold.
resource "google_logging_metric" "webhooks_auto_disabled" {
  project     = var.project_id
  name        = "hookshape/webhooks_auto_disabled"
  description = "Webhooks disabled automatically after consecutive failed deliveries, by account."
  filter      = "${local.attempt_services_filter} AND jsonPayload.autoDisabled=true"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
    labels {
      key         = "account_id"
      value_type  = "STRING"
      description = "The account whose webhook was disabled."
    }
  }

  label_extractors = {
    account_id = "EXTRACT(jsonPayload.accountId)"
  }

  depends_on = [google_project_service.apis]
}

# Events acknowledged without being dispatched: a lasting internal error while loading the account's
# webhooks (the event is kept in invalidEvents) or one that escaped the dispatch (the event is in the
# log line). Their receivers get nothing and no delivery record says so: each one needs a person.
resource "google_logging_metric" "events_not_dispatched" {
  project     = var.project_id
  name        = "hookshape/events_not_dispatched"
  description = "Events acknowledged without being dispatched because of an internal error (kept in invalidEvents or the log)."
  filter      = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${google_cloudfunctions2_function.dispatch.name}\" AND jsonPayload.notDispatched=true"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
  }

  depends_on = [google_project_service.apis]
}

# Operational events (hookshape.*) that could not be published to the operations topic: announce()
# (events/operational-events.ts) gives up after an error or 10 s and logs errorCode
# operations_publish_failed. Any of them means an account was not told of a failure; a steady stream is
# a missing topic or publisher role. Every function that announces (the validator by its name: it may
# not exist).
resource "google_logging_metric" "operations_publish_failed" {
  project     = var.project_id
  name        = "hookshape/operations_publish_failed"
  description = "Operational events (hookshape.*) that could not be published to the operations topic, by type."
  filter      = "resource.type=\"cloud_run_revision\" AND (resource.labels.service_name=\"${google_cloudfunctions2_function.dispatch.name}\" OR resource.labels.service_name=\"${google_cloudfunctions2_function.retry_worker.name}\" OR resource.labels.service_name=\"${google_cloudfunctions2_function.repair.name}\" OR resource.labels.service_name=\"${google_cloudfunctions2_function.dead_letter_notify.name}\" OR resource.labels.service_name=\"${var.validation_function_name}\") AND jsonPayload.errorCode=\"operations_publish_failed\""

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
    labels {
      key         = "event_type"
      value_type  = "STRING"
      description = "The operational event that was not published, e.g. hookshape.delivery.failed."
    }
  }

  label_extractors = {
    event_type = "EXTRACT(jsonPayload.operationalEventType)"
  }

  depends_on = [google_project_service.apis]
}

# Every completed run of the repair sweep (its summary line, whatever it found; dry runs left out): the
# sweep's heartbeat, which the alert repair_silent watches for absence. Without it a schedule that no
# longer reaches the function (its IAM, its OIDC token, a deleted job) goes unnoticed, and deliveries
# left without an owner stay where they are.
resource "google_logging_metric" "repair_runs" {
  project     = var.project_id
  name        = "hookshape/repair_runs"
  description = "Completed runs of the repair sweep (not dry runs), whatever they found: its heartbeat."
  filter      = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${google_cloudfunctions2_function.repair.name}\" AND jsonPayload.component=\"repair\" AND jsonPayload.examined:* AND jsonPayload.dryRun=false"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
  }

  depends_on = [google_project_service.apis]
}

# The repair sweep's summary line (delivery/repair.ts) of a run that found deliveries without a live
# owner: something died or lost a task. A few a day can happen (instances are recycled); a steady
# stream is a broken worker or queue.
resource "google_logging_metric" "repair_stale_found" {
  project     = var.project_id
  name        = "hookshape/repair_stale_found"
  description = "Repair sweep runs that found stale deliveries (pending or retrying without a live owner)."
  filter      = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${google_cloudfunctions2_function.repair.name}\" AND jsonPayload.component=\"repair\" AND jsonPayload.stale>0 AND jsonPayload.dryRun=false"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
  }

  depends_on = [google_project_service.apis]
}
