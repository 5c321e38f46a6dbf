# One dashboard with the charts of the alerts: deliveries by outcome, failure ratio inputs, attempt
# latency, retries scheduled, filtered and invalid events, the dead-letter backlog, retry task delay,
# function 5xx, the repair sweep and operational events that could not be published. A local object, so npm test can read (and check) it offline.

locals {
  dashboard = {
    displayName = "hookshape"
    mosaicLayout = {
      columns = 12
      tiles = [
        {
          xPos = 0, yPos = 0, width = 6, height = 4
          widget = {
            title = "Deliveries by outcome"
            xyChart = { dataSets = [{ plotType = "STACKED_BAR", timeSeriesQuery = { timeSeriesFilter = {
              filter      = "metric.type=\"${local.log_metric_prefix}/${google_logging_metric.deliveries.name}\" AND resource.type=\"cloud_run_revision\""
              aggregation = { alignmentPeriod = "300s", perSeriesAligner = "ALIGN_DELTA", crossSeriesReducer = "REDUCE_SUM", groupByFields = ["metric.label.outcome"] }
            } } }] }
          }
        },
        {
          xPos = 6, yPos = 0, width = 6, height = 4
          widget = {
            title = "Failed deliveries by account"
            xyChart = { dataSets = [{ plotType = "LINE", timeSeriesQuery = { timeSeriesFilter = {
              filter      = "metric.type=\"${local.log_metric_prefix}/${google_logging_metric.deliveries.name}\" AND resource.type=\"cloud_run_revision\" AND metric.labels.outcome=\"failed\""
              aggregation = { alignmentPeriod = "300s", perSeriesAligner = "ALIGN_DELTA", crossSeriesReducer = "REDUCE_SUM", groupByFields = ["metric.label.account_id"] }
            } } }] }
          }
        },
        {
          xPos = 0, yPos = 4, width = 6, height = 4
          widget = {
            title = "Attempt latency (p50, p99, ms)"
            xyChart = { dataSets = [
              { plotType = "LINE", timeSeriesQuery = { timeSeriesFilter = {
                filter      = "metric.type=\"${local.log_metric_prefix}/${google_logging_metric.attempt_latency.name}\" AND resource.type=\"cloud_run_revision\""
                aggregation = { alignmentPeriod = "300s", perSeriesAligner = "ALIGN_DELTA", crossSeriesReducer = "REDUCE_PERCENTILE_50" }
              } } },
              { plotType = "LINE", timeSeriesQuery = { timeSeriesFilter = {
                filter      = "metric.type=\"${local.log_metric_prefix}/${google_logging_metric.attempt_latency.name}\" AND resource.type=\"cloud_run_revision\""
                aggregation = { alignmentPeriod = "300s", perSeriesAligner = "ALIGN_DELTA", crossSeriesReducer = "REDUCE_PERCENTILE_99" }
              } } },
            ] }
          }
        },
        {
          xPos = 6, yPos = 4, width = 6, height = 4
          widget = {
            title = "Retries scheduled, filtered and invalid events"
            xyChart = { dataSets = [
              { plotType = "LINE", timeSeriesQuery = { timeSeriesFilter = {
                filter      = "metric.type=\"${local.log_metric_prefix}/${google_logging_metric.retries_scheduled.name}\" AND resource.type=\"cloud_run_revision\""
                aggregation = { alignmentPeriod = "300s", perSeriesAligner = "ALIGN_DELTA", crossSeriesReducer = "REDUCE_SUM" }
              } } },
              { plotType = "LINE", timeSeriesQuery = { timeSeriesFilter = {
                filter      = "metric.type=\"${local.log_metric_prefix}/${google_logging_metric.filtered_events.name}\" AND resource.type=\"cloud_run_revision\""
                aggregation = { alignmentPeriod = "300s", perSeriesAligner = "ALIGN_DELTA", crossSeriesReducer = "REDUCE_SUM" }
              } } },
              { plotType = "LINE", timeSeriesQuery = { timeSeriesFilter = {
                filter      = "metric.type=\"${local.log_metric_prefix}/${google_logging_metric.invalid_events.name}\" AND resource.type=\"cloud_run_revision\""
                aggregation = { alignmentPeriod = "300s", perSeriesAligner = "ALIGN_DELTA", crossSeriesReducer = "REDUCE_SUM", groupByFields = ["metric.label.kind"] }
              } } },
            ] }
          }
        },
        {
          xPos = 0, yPos = 8, width = 4, height = 4
          widget = {
            title = "Dead-letter backlog"
            xyChart = { dataSets = [{ plotType = "LINE", timeSeriesQuery = { timeSeriesFilter = {
              filter      = "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=\"${google_pubsub_subscription.events_dead_letter.name}\""
              aggregation = { alignmentPeriod = "60s", perSeriesAligner = "ALIGN_MAX" }
            } } }] }
          }
        },
        {
          xPos = 4, yPos = 8, width = 4, height = 4
          widget = {
            title = "Retry tasks: delay past schedule (p99, ms)"
            xyChart = { dataSets = [{ plotType = "LINE", timeSeriesQuery = { timeSeriesFilter = {
              filter      = "metric.type=\"cloudtasks.googleapis.com/queue/task_attempt_delays\" AND resource.type=\"cloud_tasks_queue\" AND resource.labels.queue_id=\"${google_cloud_tasks_queue.retries.name}\""
              aggregation = { alignmentPeriod = "300s", perSeriesAligner = "ALIGN_PERCENTILE_99", crossSeriesReducer = "REDUCE_MAX" }
            } } }] }
          }
        },
        {
          xPos = 8, yPos = 8, width = 4, height = 4
          widget = {
            title = "Function 5xx, repair sweeps run and finding stale deliveries"
            xyChart = { dataSets = [
              { plotType = "LINE", timeSeriesQuery = { timeSeriesFilter = {
                filter      = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND resource.labels.service_name=one_of(${local.function_services}) AND metric.labels.response_code_class=\"5xx\""
                aggregation = { alignmentPeriod = "300s", perSeriesAligner = "ALIGN_DELTA", crossSeriesReducer = "REDUCE_SUM", groupByFields = ["resource.label.service_name"] }
              } } },
              { plotType = "LINE", timeSeriesQuery = { timeSeriesFilter = {
                filter      = "metric.type=\"${local.log_metric_prefix}/${google_logging_metric.repair_stale_found.name}\" AND resource.type=\"cloud_run_revision\""
                aggregation = { alignmentPeriod = "300s", perSeriesAligner = "ALIGN_DELTA", crossSeriesReducer = "REDUCE_SUM" }
              } } },
              { plotType = "LINE", timeSeriesQuery = { timeSeriesFilter = {
                filter      = "metric.type=\"${local.log_metric_prefix}/${google_logging_metric.repair_runs.name}\" AND resource.type=\"cloud_run_revision\""
                aggregation = { alignmentPeriod = "300s", perSeriesAligner = "ALIGN_DELTA", crossSeriesReducer = "REDUCE_SUM" }
              } } },
            ] }
          }
        },
        {
          xPos = 0, yPos = 12, width = 6, height = 4
          widget = {
            title = "Operational events not published"
            xyChart = { dataSets = [{ plotType = "STACKED_BAR", timeSeriesQuery = { timeSeriesFilter = {
              filter      = "metric.type=\"${local.log_metric_prefix}/${google_logging_metric.operations_publish_failed.name}\" AND resource.type=\"cloud_run_revision\""
              aggregation = { alignmentPeriod = "300s", perSeriesAligner = "ALIGN_DELTA", crossSeriesReducer = "REDUCE_SUM", groupByFields = ["metric.label.event_type"] }
            } } }] }
          }
        },
        {
          xPos = 6, yPos = 12, width = 6, height = 4
          widget = {
            title = "Events not dispatched (internal errors), webhooks auto-disabled"
            xyChart = { dataSets = [
              { plotType = "STACKED_BAR", timeSeriesQuery = { timeSeriesFilter = {
                filter      = "metric.type=\"${local.log_metric_prefix}/${google_logging_metric.events_not_dispatched.name}\" AND resource.type=\"cloud_run_revision\""
                aggregation = { alignmentPeriod = "300s", perSeriesAligner = "ALIGN_DELTA", crossSeriesReducer = "REDUCE_SUM" }
              } } },
              { plotType = "STACKED_BAR", timeSeriesQuery = { timeSeriesFilter = {
                filter      = "metric.type=\"${local.log_metric_prefix}/${google_logging_metric.webhooks_auto_disabled.name}\" AND resource.type=\"cloud_run_revision\""
                aggregation = { alignmentPeriod = "300s", perSeriesAligner = "ALIGN_DELTA", crossSeriesReducer = "REDUCE_SUM", groupByFields = ["metric.label.account_id"] }
              } } },
            ] }
          }
        },
      ]
    }
  }
}

resource "google_monitoring_dashboard" "hookshape" {
  project        = var.project_id
  dashboard_json = jsonencode(local.dashboard)

  depends_on = [google_project_service.apis]
}
