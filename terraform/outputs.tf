output "events_topic" {
  description = "Pub/Sub topic the platform publishes events to (full name and short name)."
  value = {
    id   = google_pubsub_topic.events.id
    name = google_pubsub_topic.events.name
  }
}

output "events_dead_letter_topic" {
  description = "Dead-letter topic of the events, the pull subscription that keeps its messages, and the push subscription and function that announce them (hookshape.event.dead_lettered)."
  value = {
    topic               = google_pubsub_topic.events_dead_letter.id
    subscription        = google_pubsub_subscription.events_dead_letter.id
    notify_subscription = google_pubsub_subscription.events_dead_letter_notify.id
    notify_function     = google_cloudfunctions2_function.dead_letter_notify.name
  }
}

output "dispatch_function" {
  description = "Dispatch function: name, Cloud Run URI, Eventarc trigger."
  value = {
    name    = google_cloudfunctions2_function.dispatch.name
    uri     = google_cloudfunctions2_function.dispatch.service_config[0].uri
    trigger = google_cloudfunctions2_function.dispatch.event_trigger[0].trigger
  }
}

output "retry_worker_function" {
  description = "Retry worker: name, Cloud Run URI, and the URL the functions target with retry tasks (RETRY_WORKER_URL)."
  value = {
    name             = google_cloudfunctions2_function.retry_worker.name
    uri              = google_cloudfunctions2_function.retry_worker.service_config[0].uri
    url              = google_cloudfunctions2_function.retry_worker.url
    retry_worker_url = local.retry_worker_url
  }
}

output "api" {
  description = "The management API: its URL (routes under /v1, the OpenAPI document at /v1/openapi.json) and the secret of its token signing keys."
  value = {
    name            = google_cloudfunctions2_function.api.name
    url             = google_cloudfunctions2_function.api.url
    openapi         = "${google_cloudfunctions2_function.api.url}/v1/openapi.json"
    jwt_keys_secret = google_secret_manager_secret.api_jwt_keys.id
  }
}

output "api_jwt_keys_command" {
  description = "Adds the first version of the API's token signing keys (run once after the first apply, from the repository; rotation: docs/security.md, API credentials)."
  value       = "node_modules/.bin/node functions/dev/api-jwt-keys.ts | gcloud secrets versions add ${google_secret_manager_secret.api_jwt_keys.secret_id} --project ${var.project_id} --data-file=-"
}

output "repair_function" {
  description = "Repair sweep: function name, Cloud Run URI, and the Cloud Scheduler job that runs it."
  value = {
    name     = google_cloudfunctions2_function.repair.name
    uri      = google_cloudfunctions2_function.repair.service_config[0].uri
    schedule = google_cloud_scheduler_job.repair.schedule
    job      = google_cloud_scheduler_job.repair.id
  }
}

output "validation_function" {
  description = "Webhook validation function name, or null while enable_validation_trigger is false."
  value       = var.enable_validation_trigger ? google_cloudfunctions2_function.validate_webhook[0].name : null
}

output "tasks_queue" {
  description = "Cloud Tasks queue of the webhook retries (full name and short name)."
  value = {
    id   = google_cloud_tasks_queue.retries.id
    name = google_cloud_tasks_queue.retries.name
  }
}

output "service_accounts" {
  description = "Service accounts created for hookshape."
  value = {
    dispatcher    = google_service_account.dispatcher.email
    retry_worker  = google_service_account.retry_worker.email
    tasks_invoker = google_service_account.tasks_invoker.email
    trigger       = google_service_account.trigger.email
    build         = google_service_account.build.email
    validator     = var.enable_validation_trigger ? google_service_account.validator[0].email : null
    repair        = google_service_account.repair.email
    api           = google_service_account.api.email
    repair_invoke = google_service_account.repair_scheduler.email
  }
}

output "source_bucket" {
  description = "Bucket holding the uploaded function source."
  value       = google_storage_bucket.source.name
}

output "secret_name_prefix" {
  description = "Secret Manager secrets readable by the functions: <prefix><accountId>--<NAME>."
  value       = local.secret_name_prefix
}

output "dead_letter_attach_command" {
  description = "Shell command that attaches the dead-letter topic to the dispatcher's Eventarc subscription (what attach_dead_letter_policy runs during apply); run it once when that is false."
  value       = "PROJECT='${var.project_id}' TRIGGER='${local.dispatch_trigger}' DEAD_LETTER_TOPIC='${google_pubsub_topic.events_dead_letter.id}' MAX_ATTEMPTS='${var.dead_letter_max_delivery_attempts}' PUBSUB_AGENT='${local.pubsub_service_agent}' bash -c '${replace(local.dead_letter_attach_script, "'", "'\\''")}'"
}
