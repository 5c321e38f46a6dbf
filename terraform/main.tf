# Shared values. The resources are split by concern:
#   apis.tf       required Google APIs
#   storage.tf    the built functions, zipped and uploaded; the Artifact Registry repository of the images
#   pubsub.tf     the events topic, its dead-letter topic (kept for inspection, pushed to the dead-letter
#                 announcer), the operations topic and its push to the dispatcher
#   tasks.tf      the Cloud Tasks retry queue
#   firestore.tf  the database, its composite indexes, the delivery log's TTL policy
#   iam.tf        service accounts and every role binding
#   functions.tf  the dispatch function, the retry worker, the repair sweep, the dead-letter announcer,
#                 the (optional) validation function
#   scheduler.tf  the Cloud Scheduler job that runs the repair sweep
#   api.tf        the management API function, its identity and its signing-key secret
#   outputs.tf    names and URLs

data "google_project" "this" {
  project_id = var.project_id

  depends_on = [google_project_service.apis]
}

locals {
  project_number = data.google_project.this.number

  # Secret Manager secrets the templates may read are named hookshape--<accountId>--<NAME>; the
  # functions' secret accessor role is limited to names with this prefix (iam.tf).
  secret_name_prefix = "hookshape--"

  # The retry worker's URL is needed by the dispatcher AND by the worker (which enqueues the next
  # retry itself), and both read the same configuration. The worker cannot reference its own `url`
  # (a resource cannot depend on itself), so the URL is computed from values known before anything
  # is created: gen2 functions answer on https://REGION-PROJECT.cloudfunctions.net/NAME, which is the
  # value of the function's `url` attribute. Every function gets this same value, so the dispatcher and
  # the worker always enqueue to the same target (and the OIDC audience is that URL); the check block
  # in functions.tf compares it with the real `url` after each apply. retry_worker_url_override
  # replaces it (custom domain) on all functions at once.
  retry_worker_url = (
    var.retry_worker_url_override != ""
    ? var.retry_worker_url_override
    : "https://${var.region}-${var.project_id}.cloudfunctions.net/${var.retry_worker_function_name}"
  )

  # Exactly DEPLOYED_ENV_VARS of functions/src/config/runtime-config.ts, no more, no fewer (npm test
  # compares the two). Every function gets the same map. TASKS_RATE_LIMITED_QUEUE_PREFIX: the queues
  # of rate-limited webhooks are this prefix and a hash (iam.tf, rate_limited_queues).
  function_environment = {
    GOOGLE_CLOUD_PROJECT            = var.project_id
    EVENTS_TOPIC                    = google_pubsub_topic.events.name
    OPERATIONS_TOPIC                = google_pubsub_topic.operations.name
    TASKS_LOCATION                  = google_cloud_tasks_queue.retries.location
    TASKS_QUEUE                     = google_cloud_tasks_queue.retries.name
    TASKS_RATE_LIMITED_QUEUE_PREFIX = "${google_cloud_tasks_queue.retries.name}-rl-"
    RETRY_WORKER_URL                = local.retry_worker_url
    TASKS_INVOKER_SERVICE_ACCOUNT   = google_service_account.tasks_invoker.email
    RETRY_BASE_DELAY_SECONDS        = tostring(var.retry_base_delay_seconds)
    RETRY_AFTER_CAP_SECONDS         = tostring(var.retry_after_cap_seconds)
    WEBHOOK_CACHE_SECONDS           = tostring(var.webhook_cache_seconds)
    DELIVERY_RETENTION_DAYS         = tostring(var.delivery_retention_days)
    ALLOW_LOOPBACK_DESTINATIONS     = "false"
    SECRETS_SOURCE                  = "secret-manager"
    AUTO_DISABLE_AFTER_FAILURES     = tostring(var.auto_disable_after_failures)
    MAX_WEBHOOKS_PER_EVENT          = tostring(var.max_webhooks_per_event)
    DELIVERY_LEASE_SECONDS          = tostring(var.delivery_lease_seconds)
    RETRY_OVERDUE_SECONDS           = tostring(var.retry_overdue_seconds)
    API_JWT_KEYS_SECRET             = google_secret_manager_secret.api_jwt_keys.secret_id
    API_CORS_ORIGINS                = var.api_cors_origins
    API_PORTAL_URL                  = var.api_portal_url
    PORTAL_FRAME_ANCESTORS          = var.portal_frame_ancestors
    PORTAL_BRANDING                 = var.portal_branding
  }

  # Google-managed service agents this configuration grants something to.
  pubsub_service_agent = "service-${local.project_number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}
