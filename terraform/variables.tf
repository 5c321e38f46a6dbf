# Inputs. Only `project_id` is required; every default is a working production value.
# test/terraform/terraform.test.ts checks that each variable has a description and that the
# defaults which mirror the code (topic, queue, region, retry timings) equal the code's own defaults.

# --- Where ---------------------------------------------------------------------------------------

variable "project_id" {
  description = "Google Cloud project id to deploy into (billing enabled)."
  type        = string
}

variable "region" {
  description = "Region of the functions, the Cloud Tasks queue, the source bucket and the Artifact Registry repository. Also the functions' TASKS_LOCATION."
  type        = string
  default     = "us-central1"
}

variable "firestore_location" {
  description = "Location of the Firestore database (a multi-region such as nam5 or eur3, or a region). Firestore-triggered functions listen in this location. Cannot be changed once the database exists."
  type        = string
  default     = "nam5"
}

variable "name_prefix" {
  description = "Prefix of the service accounts, the source bucket and the Artifact Registry repository, so two deployments can share a project. Lowercase letters, digits and hyphens; at most 12 characters."
  type        = string
  default     = "hookshape"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,11}$", var.name_prefix))
    error_message = "name_prefix must start with a lowercase letter and use at most 12 lowercase letters, digits or hyphens."
  }
}

variable "labels" {
  description = "Extra labels put on every resource that takes labels (app = hookshape is always set)."
  type        = map(string)
  default     = {}
}

# --- Pub/Sub -------------------------------------------------------------------------------------

variable "events_topic_name" {
  description = "Pub/Sub topic the platform publishes events to. Must equal DEFAULT_EVENTS_TOPIC in functions/src/config/runtime-config.ts unless you also change the publishers."
  type        = string
  default     = "hookshape-events"
}

variable "operations_topic_name" {
  description = "Pub/Sub topic of hookshape's operational events (hookshape.delivery.failed, hookshape.webhook.disabled, hookshape.webhook.invalid); the functions read its name from OPERATIONS_TOPIC."
  type        = string
  default     = "hookshape-operations"
}

variable "events_message_retention" {
  description = "How long the events topic keeps published messages (e.g. 604800s = 7 days, at most 31 days), so the dispatcher's subscription can be seeked back to replay events after an incident."
  type        = string
  default     = "604800s"
}

variable "dead_letter_max_delivery_attempts" {
  description = "Deliveries of one event to the dispatcher before Pub/Sub moves it to the dead-letter topic (5 to 100). The dispatcher only fails an event for transient reasons; webhook delivery failures are retried through Cloud Tasks, not here."
  type        = number
  default     = 10

  validation {
    condition     = var.dead_letter_max_delivery_attempts >= 5 && var.dead_letter_max_delivery_attempts <= 100
    error_message = "Pub/Sub accepts between 5 and 100 delivery attempts."
  }
}

variable "attach_dead_letter_policy" {
  description = "Attach the dead-letter topic to the dispatcher's Eventarc-managed Pub/Sub subscription during apply. Runs the gcloud CLI (bash) on the machine running Terraform, because that subscription is created by Eventarc and no Terraform resource can manage it. Set false where gcloud is not available and run the command from the dead_letter_attach_command output once."
  type        = bool
  default     = true
}

# --- Cloud Tasks ---------------------------------------------------------------------------------

variable "tasks_queue_name" {
  description = "Cloud Tasks queue that holds scheduled webhook retries. Must equal DEFAULT_TASKS_QUEUE in functions/src/config/runtime-config.ts. A deleted queue's name cannot be reused for about 7 days."
  type        = string
  default     = "hookshape-retries"
}

variable "tasks_max_dispatches_per_second" {
  description = "Highest rate at which the queue calls the retry worker (tasks per second)."
  type        = number
  default     = 50
}

variable "tasks_max_concurrent_dispatches" {
  description = "Most retry-worker calls in flight at once from the queue."
  type        = number
  default     = 50
}

variable "tasks_crash_retry_attempts" {
  description = "Attempts Cloud Tasks makes for one task when the retry worker itself fails (5xx, timeout, crash). The retry schedule of webhook deliveries is the application's: the worker answers 2xx once it has recorded an attempt and enqueues the next one itself."
  type        = number
  default     = 5

  validation {
    condition     = var.tasks_crash_retry_attempts >= 1 && var.tasks_crash_retry_attempts <= 100
    error_message = "tasks_crash_retry_attempts must be between 1 and 100 (never unlimited)."
  }
}

# --- Functions -----------------------------------------------------------------------------------

variable "dispatch_function_name" {
  description = "Name of the dispatch function (Cloud Functions gen2, Pub/Sub-triggered)."
  type        = string
  default     = "hookshape-dispatch"
}

variable "retry_worker_function_name" {
  description = "Name of the retry worker function (Cloud Functions gen2, HTTP, called only by Cloud Tasks)."
  type        = string
  default     = "hookshape-retry-worker"
}

variable "repair_function_name" {
  description = "Name of the repair sweep function (Cloud Functions gen2, HTTP, called only by Cloud Scheduler)."
  type        = string
  default     = "hookshape-repair"
}

variable "dead_letter_function_name" {
  description = "Name of the function that announces dead-lettered events (hookshape.event.dead_lettered; Cloud Functions gen2, pushed to by the dead-letter topic's subscription)."
  type        = string
  default     = "hookshape-dead-letters"
}

variable "repair_schedule" {
  description = "Cron schedule (in repair_time_zone) of the repair sweep, which moves on deliveries left pending or retrying without a live owner (an instance died, a task was lost). Every 5 minutes by default: a lost delivery resumes within lease + this period."
  type        = string
  default     = "*/5 * * * *"
}

variable "repair_time_zone" {
  description = "Time zone of repair_schedule."
  type        = string
  default     = "Etc/UTC"
}

variable "validation_function_name" {
  description = "Name of the webhook validation function (Firestore-triggered), created only when enable_validation_trigger is true."
  type        = string
  default     = "hookshape-validate-webhook"
}

variable "enable_validation_trigger" {
  description = "Deploy validateWebhook, triggered when a document under accounts/{accountId}/webhooks/{webhookId} is written: it writes the result of the checks into the document's validation field, and the dispatcher skips a webhook whose validation failed."
  type        = bool
  default     = true
}

variable "function_runtime" {
  description = "Cloud Functions runtime of every function: nodejs22 (deprecated on 2027-04-30) or nodejs24. npm test runs the unit suite on both majors; see docs/operations.md before switching."
  type        = string
  default     = "nodejs22"

  validation {
    condition     = contains(["nodejs22", "nodejs24"], var.function_runtime)
    error_message = "function_runtime must be nodejs22 or nodejs24 (the Node.js majors the test suite runs on)."
  }
}

variable "function_memory" {
  description = "Memory of each function instance (e.g. 256Mi, 512Mi, 1Gi)."
  type        = string
  default     = "512Mi"
}

variable "function_cpu" {
  description = "vCPUs of each function instance. Concurrency above 1 needs at least 1 vCPU."
  type        = string
  default     = "1"
}

variable "dispatch_max_instances" {
  description = "Most dispatch function instances running at once."
  type        = number
  default     = 20
}

variable "dispatch_concurrency" {
  description = "Events one dispatch instance handles at once (max_instance_request_concurrency). Most of its time is spent waiting on HTTP, so more than 1 is cheap."
  type        = number
  default     = 20
}

variable "dispatch_timeout_seconds" {
  description = "Time limit of one dispatch invocation, in seconds (at most 540 for event-driven functions)."
  type        = number
  default     = 120

  validation {
    condition     = var.dispatch_timeout_seconds >= 1 && var.dispatch_timeout_seconds <= 540
    error_message = "Event-driven gen2 functions accept a timeout between 1 and 540 seconds."
  }
}

variable "worker_max_instances" {
  description = "Most retry worker instances running at once."
  type        = number
  default     = 20
}

variable "worker_concurrency" {
  description = "Requests one retry worker instance handles at once (max_instance_request_concurrency)."
  type        = number
  default     = 20
}

variable "worker_timeout_seconds" {
  description = "Time limit of one retry worker request, in seconds."
  type        = number
  default     = 120
}

variable "worker_ingress" {
  description = "Network ingress of the retry worker. ALLOW_INTERNAL_ONLY admits Cloud Tasks of the same project; IAM (run.invoker held only by the tasks invoker service account) applies whatever this is."
  type        = string
  default     = "ALLOW_INTERNAL_ONLY"

  validation {
    condition     = contains(["ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB", "ALLOW_ALL"], var.worker_ingress)
    error_message = "worker_ingress must be ALLOW_INTERNAL_ONLY, ALLOW_INTERNAL_AND_GCLB or ALLOW_ALL."
  }
}

variable "retry_worker_url_override" {
  description = "RETRY_WORKER_URL given to the functions. Empty (the default) means the worker's own https://REGION-PROJECT.cloudfunctions.net/NAME URL, computed before the worker exists; set it only for a custom domain or load balancer in front of the worker."
  type        = string
  default     = ""
}

# --- Behaviour (environment variables of the functions) ------------------------------------------

variable "retry_base_delay_seconds" {
  description = "RETRY_BASE_DELAY_SECONDS: first delay of the webhook retry schedule; later delays grow from it."
  type        = number
  default     = 60
}

variable "retry_after_cap_seconds" {
  description = "RETRY_AFTER_CAP_SECONDS: longest Retry-After header of a receiver that is honoured."
  type        = number
  default     = 3600
}

variable "webhook_cache_seconds" {
  description = "WEBHOOK_CACHE_SECONDS: how long an instance caches an account's webhook documents (0 disables the cache)."
  type        = number
  default     = 10
}

variable "delivery_retention_days" {
  description = "DELIVERY_RETENTION_DAYS: days a delivery log entry is kept; the functions set its expiresAt that far ahead and the Firestore TTL policy deletes it afterwards."
  type        = number
  default     = 30

  validation {
    condition     = var.delivery_retention_days >= 1
    error_message = "delivery_retention_days must be at least 1."
  }
}

variable "auto_disable_after_failures" {
  description = "AUTO_DISABLE_AFTER_FAILURES: consecutive deliveries ending failed (after retries and backup) after which a webhook is set enabled = false with the reason in its document; 0 never disables."
  type        = number
  default     = 15

  validation {
    condition     = var.auto_disable_after_failures >= 0 && floor(var.auto_disable_after_failures) == var.auto_disable_after_failures
    error_message = "auto_disable_after_failures must be a whole number, 0 or more."
  }
}

variable "max_webhooks_per_event" {
  description = "MAX_WEBHOOKS_PER_EVENT: webhooks of one account sent per event (all at once up to 100); those beyond are recorded as not sent (fan_out_limit). Above 100 raise dispatch_timeout_seconds with it. In flight per instance: dispatch_concurrency x this."
  type        = number
  default     = 50

  validation {
    condition     = var.max_webhooks_per_event >= 1 && var.max_webhooks_per_event <= 500 && floor(var.max_webhooks_per_event) == var.max_webhooks_per_event
    error_message = "max_webhooks_per_event must be a whole number between 1 and 500."
  }
}

variable "api_function_name" {
  description = "Name of the management API function (Cloud Functions gen2, HTTP, public: it authenticates every request itself)."
  type        = string
  default     = "hookshape-api"
}

variable "api_max_instances" {
  description = "Most instances of the management API function."
  type        = number
  default     = 10
}

variable "api_concurrency" {
  description = "Requests one management API instance serves at once."
  type        = number
  default     = 40
}

variable "api_jwt_keys_secret" {
  description = "API_JWT_KEYS_SECRET: the Secret Manager secret (id, in this project) whose latest version holds the management API's customer-token signing keys, {\"keys\": [private JWKs with kid]}: the first signs, every one verifies (rotation: put the new key first, drop the old after an hour)."
  type        = string
  default     = "hookshape-api-jwt-keys"
}

variable "api_cors_origins" {
  description = "API_CORS_ORIGINS: browser origins (comma-separated, e.g. \"https://portal.example.com\") allowed to call the management API; empty: none. Wildcards are refused."
  type        = string
  default     = ""

  # The functions check the same rule at start (runtime-config.ts origins()); a plan that breaks it fails here.
  validation {
    condition     = alltrue([for origin in compact([for item in split(",", var.api_cors_origins) : trimspace(item)]) : can(regex("^[Hh][Tt][Tt][Pp][Ss]?://[^/\\s;,'\"@*?#]+/?$", origin))])
    error_message = "API_CORS_ORIGINS lists exact origins, scheme://host[:port] with http or https, comma-separated (no path, wildcard or ';')."
  }
}

variable "portal_frame_ancestors" {
  description = "PORTAL_FRAME_ANCESTORS: origins (comma-separated) that may embed the customer portal in an iframe and hand it fresh tokens by postMessage; empty: none."
  type        = string
  default     = ""

  # The functions check the same rule at start (runtime-config.ts origins()); a plan that breaks it fails here.
  validation {
    condition     = alltrue([for origin in compact([for item in split(",", var.portal_frame_ancestors) : trimspace(item)]) : can(regex("^[Hh][Tt][Tt][Pp][Ss]?://[^/\\s;,'\"@*?#]+/?$", origin))])
    error_message = "PORTAL_FRAME_ANCESTORS lists exact origins, scheme://host[:port] with http or https, comma-separated (no path, wildcard or ';')."
  }
}

variable "portal_branding" {
  description = "PORTAL_BRANDING: the portal's white-label as JSON: {\"name\", \"primaryColor\", \"contrastColor\", \"logo\" (a data:image URI)}; empty: the defaults."
  type        = string
  default     = ""
}

variable "api_portal_url" {
  description = "API_PORTAL_URL: the customer portal's address; a portal session's url is this with the token in the fragment. Empty: the API's own /portal/."
  type        = string
  default     = ""
}

# --- Firestore -----------------------------------------------------------------------------------

variable "delivery_lease_seconds" {
  description = "DELIVERY_LEASE_SECONDS: a claim or an attempt in flight older than this has no live owner and is recovered (its attempt recorded as outcome unknown). Must exceed the longest invocation that holds a claim: the dispatch and retry worker timeouts, plus 30 s of margin."
  type        = number
  default     = 150

  # An instance is alive until its function's timeout: a shorter lease takes over live deliveries.
  validation {
    condition     = var.delivery_lease_seconds >= max(var.dispatch_timeout_seconds, var.worker_timeout_seconds) + 30
    error_message = "delivery_lease_seconds must be at least the longest of dispatch_timeout_seconds and worker_timeout_seconds plus 30, or live deliveries would be taken over."
  }
}

variable "retry_overdue_seconds" {
  description = "RETRY_OVERDUE_SECONDS: a retrying delivery whose next attempt is this late has lost its task (Cloud Tasks runs due tasks within seconds and retries a crashed worker on its own first); the repair sweep enqueues it again."
  type        = number
  default     = 600

  validation {
    condition     = var.retry_overdue_seconds >= 60
    error_message = "retry_overdue_seconds must be at least 60."
  }
}

variable "create_firestore_database" {
  description = "Create the (default) Firestore database in native mode. Set false when the project already has one (it must be in native mode, in firestore_location)."
  type        = bool
  default     = true
}

variable "firestore_deletion_policy" {
  description = "What terraform destroy does to the Firestore database: ABANDON (default) leaves it and its data in place; DELETE deletes it with all webhooks and the delivery log."
  type        = string
  default     = "ABANDON"

  validation {
    condition     = contains(["ABANDON", "DELETE"], var.firestore_deletion_policy)
    error_message = "firestore_deletion_policy must be ABANDON or DELETE."
  }
}

# --- Google service agents -----------------------------------------------------------------------

variable "grant_pubsub_token_creator" {
  description = "Let the Pub/Sub service agent mint tokens for the Eventarc trigger service account (only that account). Required on projects whose Pub/Sub service agent dates from 8 April 2021 or earlier, harmless otherwise."
  type        = bool
  default     = true
}

# --- Monitoring (alerts.tf, dashboard.tf) --------------------------------------------------------

variable "alert_notification_channels" {
  description = "Cloud Monitoring notification channel ids (projects/P/notificationChannels/N) every alert policy notifies; empty: incidents open in the console only."
  type        = list(string)
  default     = []
}

variable "alert_failure_ratio" {
  description = "Alert when more than this fraction of the deliveries that ended in 10 minutes ended failed (0 to 1)."
  type        = number
  default     = 0.2

  validation {
    condition     = var.alert_failure_ratio > 0 && var.alert_failure_ratio <= 1
    error_message = "alert_failure_ratio must be more than 0 and at most 1."
  }
}

variable "alert_dead_letter_backlog" {
  description = "Alert when the dead-letter subscription holds more than this many undelivered events (0: any)."
  type        = number
  default     = 0
}

variable "alert_retry_task_delay_seconds" {
  description = "Alert when the 99th percentile of retry attempts' delay past their schedule time exceeds this, in seconds (Cloud Tasks runs due tasks within seconds)."
  type        = number
  default     = 300
}

variable "alert_function_error_ratio" {
  description = "Alert when more than this fraction of a function's requests over 5 minutes got a 5xx (0 to 1)."
  type        = number
  default     = 0.05

  validation {
    condition     = var.alert_function_error_ratio > 0 && var.alert_function_error_ratio <= 1
    error_message = "alert_function_error_ratio must be more than 0 and at most 1."
  }
}

variable "alert_repair_stale_runs" {
  description = "Alert when more than this many repair sweep runs in an hour found stale deliveries (the sweep runs every 5 minutes by default: 12 per hour)."
  type        = number
  default     = 2
}

variable "alert_operations_publish_failed" {
  description = "Alert when more than this many operational events (hookshape.*) could not be published in 10 minutes (0: any; each is an account not told)."
  type        = number
  default     = 0

  validation {
    condition     = var.alert_operations_publish_failed >= 0
    error_message = "alert_operations_publish_failed must be 0 or more."
  }
}

variable "alert_events_not_dispatched" {
  description = "Alert when more than this many events were acknowledged without being dispatched (a lasting internal error) in 10 minutes (0: any)."
  type        = number
  default     = 0

  validation {
    condition     = var.alert_events_not_dispatched >= 0
    error_message = "alert_events_not_dispatched must be 0 or more."
  }
}

variable "alert_repair_silent_minutes" {
  description = "Alert when no scheduled repair sweep completed for this many minutes. Keep it several periods of repair_schedule (30 is six missed runs at the default every 5 minutes): below one period the alert fires between every two runs."
  type        = number
  default     = 30

  validation {
    condition     = var.alert_repair_silent_minutes >= 10 && var.alert_repair_silent_minutes <= 1410
    error_message = "alert_repair_silent_minutes must be 10 to 1410 (Cloud Monitoring's absence window is at most 23.5 hours)."
  }
}
