# Scheduled webhook retries. The application owns the retry schedule: each task is one future
# delivery attempt, created with its schedule time by the dispatcher (first retry) or by the retry
# worker (every later one), and the worker answers 2xx as soon as it has recorded the attempt,
# whatever the receiver said. The queue's own retry_config therefore only covers the worker itself
# failing (crash, timeout, 5xx, cold-start trouble): a few attempts with backoff, never unlimited, so a
# broken worker cannot loop a task for days.
resource "google_cloud_tasks_queue" "retries" {
  name     = var.tasks_queue_name
  project  = var.project_id
  location = var.region

  rate_limits {
    max_dispatches_per_second = var.tasks_max_dispatches_per_second
    max_concurrent_dispatches = var.tasks_max_concurrent_dispatches
  }

  retry_config {
    max_attempts       = var.tasks_crash_retry_attempts
    min_backoff        = "10s"
    max_backoff        = "300s"
    max_doublings      = 4
    max_retry_duration = "3600s"
  }

  stackdriver_logging_config {
    sampling_ratio = 0.1
  }

  depends_on = [google_project_service.apis]
}
