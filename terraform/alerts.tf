# Alert policies on the log-based metrics (metrics.tf) and on Google's own metrics of the services
# hookshape runs on. Thresholds are variables (variables.tf, "Monitoring"); notifications go to the
# channels in var.alert_notification_channels (none: the incidents still open in the console).

locals {
  log_metric_prefix = "logging.googleapis.com/user"
  # The Cloud Run services of every function (gen2 functions are Cloud Run services of the same name);
  # the validator's by its name: it may not exist (enable_validation_trigger), and then matches nothing.
  function_services = join(",", [for name in [var.dispatch_function_name, var.retry_worker_function_name, var.repair_function_name, var.api_function_name, var.dead_letter_function_name, var.validation_function_name] : "\"${name}\""])
}

resource "google_monitoring_alert_policy" "delivery_failure_ratio" {
  project               = var.project_id
  display_name          = "hookshape: deliveries failing"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels

  depends_on = [google_project_service.apis]

  conditions {
    display_name = "failed / ended deliveries above ${var.alert_failure_ratio} over 10 min"
    condition_threshold {
      filter             = "metric.type=\"${local.log_metric_prefix}/${google_logging_metric.deliveries.name}\" AND resource.type=\"cloud_run_revision\" AND metric.labels.outcome=\"failed\""
      denominator_filter = "metric.type=\"${local.log_metric_prefix}/${google_logging_metric.deliveries.name}\" AND resource.type=\"cloud_run_revision\""
      comparison         = "COMPARISON_GT"
      threshold_value    = var.alert_failure_ratio
      duration           = "0s"
      aggregations {
        alignment_period     = "600s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
      }
      denominator_aggregations {
        alignment_period     = "600s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Deliveries end `failed` more often than usual. Break hookshape/deliveries down by error_code and account_id; the records' lastError says why (docs/operations.md: Troubleshooting by symptom)."
  }
}

resource "google_monitoring_alert_policy" "dead_letter_backlog" {
  project               = var.project_id
  display_name          = "hookshape: events dead-lettered"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels

  depends_on = [google_project_service.apis]

  conditions {
    display_name = "undelivered messages on the dead-letter subscription above ${var.alert_dead_letter_backlog}"
    condition_threshold {
      filter          = "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=\"${google_pubsub_subscription.events_dead_letter.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_dead_letter_backlog
      duration        = "60s"
      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "The dispatcher failed events for good (passing faults repeated dead_letter_max_delivery_attempts times). Pull them from the dead-letter subscription, fix the cause, publish them again."
  }
}

# Retry tasks are scheduled in the future on purpose, so their age says nothing; how late a due task
# runs does: a broken worker, a paused queue or a throttled one shows here before customers notice.
resource "google_monitoring_alert_policy" "retry_task_delay" {
  project               = var.project_id
  display_name          = "hookshape: retry tasks running late"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels

  depends_on = [google_project_service.apis]

  conditions {
    display_name = "99th percentile of retry attempts' delay past their schedule above ${var.alert_retry_task_delay_seconds} s"
    condition_threshold {
      filter          = "metric.type=\"cloudtasks.googleapis.com/queue/task_attempt_delays\" AND resource.type=\"cloud_tasks_queue\" AND resource.labels.queue_id=\"${google_cloud_tasks_queue.retries.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_retry_task_delay_seconds * 1000
      duration        = "300s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_PERCENTILE_99"
        cross_series_reducer = "REDUCE_MAX"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "The retry queue runs tasks late. Check the retry worker's errors and the queue's state (`gcloud tasks queues describe`); the repair sweep re-enqueues retries overdue by RETRY_OVERDUE_SECONDS."
  }
}

resource "google_monitoring_alert_policy" "function_errors" {
  project               = var.project_id
  display_name          = "hookshape: function errors"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels

  depends_on = [google_project_service.apis]

  conditions {
    display_name = "5xx answers of the functions above ${var.alert_function_error_ratio} of their requests"
    condition_threshold {
      filter             = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND resource.labels.service_name=one_of(${local.function_services}) AND metric.labels.response_code_class=\"5xx\""
      denominator_filter = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND resource.labels.service_name=one_of(${local.function_services})"
      comparison         = "COMPARISON_GT"
      threshold_value    = var.alert_function_error_ratio
      duration           = "300s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.labels.service_name"]
      }
      denominator_aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.labels.service_name"]
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A function answers 5xx (the dispatcher: Pub/Sub redelivers; the worker: Cloud Tasks retries). The functions only do that for passing faults of Firestore, Cloud Tasks or Secret Manager: look at their ERROR lines."
  }
}

resource "google_monitoring_alert_policy" "repair_stale" {
  project               = var.project_id
  display_name          = "hookshape: repair sweep finding stale deliveries"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels

  depends_on = [google_project_service.apis]

  conditions {
    display_name = "sweeps that found stale deliveries in an hour above ${var.alert_repair_stale_runs}"
    condition_threshold {
      filter          = "metric.type=\"${local.log_metric_prefix}/${google_logging_metric.repair_stale_found.name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_repair_stale_runs
      duration        = "0s"
      aggregations {
        alignment_period     = "3600s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Deliveries lost their owner (an instance died mid-delivery, a task was lost). The sweep moved them on; many in a row point at a crashing function or a broken queue. `hookshape repair --dry-run` lists what is stale now."
  }
}

# Operational events (hookshape.*) that could not be published (metrics.tf): each one is an account not
# told that a delivery failed, a webhook was disabled or found invalid, or an event was dead-lettered. The
# functions only log it and go on, so without this nobody hears of a missing topic or publisher role.
resource "google_monitoring_alert_policy" "operations_publish_failed" {
  project               = var.project_id
  display_name          = "hookshape: operational events not published"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels

  depends_on = [google_project_service.apis]

  conditions {
    display_name = "operational events not published in 10 min above ${var.alert_operations_publish_failed}"
    condition_threshold {
      filter          = "metric.type=\"${local.log_metric_prefix}/${google_logging_metric.operations_publish_failed.name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_operations_publish_failed
      duration        = "0s"
      aggregations {
        alignment_period     = "600s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "hookshape could not publish its own events (hookshape.delivery.failed, ...) to the operations topic: accounts were not told. Break hookshape/operations_publish_failed down by event_type; the functions' ERROR lines with errorCode operations_publish_failed say why (a missing topic, a missing pubsub.publisher role, Pub/Sub unavailable). The delivery records are right; only the notifications are lost."
  }
}

# Events acknowledged without being dispatched (metrics.tf): no receiver got them and no delivery record
# shows it. Rare by design (only a lasting internal error), so any one is worth a look.
resource "google_monitoring_alert_policy" "events_not_dispatched" {
  project               = var.project_id
  display_name          = "hookshape: events not dispatched"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels

  depends_on = [google_project_service.apis]

  conditions {
    display_name = "events not dispatched in 10 min above ${var.alert_events_not_dispatched}"
    condition_threshold {
      filter          = "metric.type=\"${local.log_metric_prefix}/${google_logging_metric.events_not_dispatched.name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_events_not_dispatched
      duration        = "0s"
      aggregations {
        alignment_period     = "600s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "The dispatcher acknowledged events it could not dispatch (a lasting internal error): no webhook got them and no delivery record shows it. Its ERROR lines with jsonPayload.notDispatched=true say why; the event is in invalidEvents/<messageId> or in the line's data field. Fix the cause, then publish the events again (the platform's publisher, or gcloud pubsub topics publish)."
  }
}

# The repair sweep stopped running (no summary line of a scheduled run for a while): Cloud Scheduler no
# longer reaches the function, or every run fails before its summary. The sweep is what resumes deliveries
# whose instance died or whose task was lost, so those would now wait for good.
resource "google_monitoring_alert_policy" "repair_silent" {
  project               = var.project_id
  display_name          = "hookshape: repair sweep not running"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels

  depends_on = [google_project_service.apis]

  conditions {
    display_name = "no completed repair sweep in ${var.alert_repair_silent_minutes} min"
    condition_absent {
      filter   = "metric.type=\"${local.log_metric_prefix}/${google_logging_metric.repair_runs.name}\" AND resource.type=\"cloud_run_revision\""
      duration = "${var.alert_repair_silent_minutes * 60}s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "No scheduled run of the repair sweep completed for a while. Look at the Cloud Scheduler job (its last attempt's status: an OIDC or IAM error, a paused or deleted job) and the repair function's ERROR lines (`repair sweep interrupted`). Until it runs, deliveries left without an owner (an instance that died, a lost task) are not resumed; `hookshape repair --dry-run` lists them."
  }
}
