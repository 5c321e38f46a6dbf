# The functions: Cloud Functions gen2, Node.js 22, built from the uploaded build/functions/ (storage.tf).
# Each entry_point is an export of build/functions/index.js, registered with the Functions Framework
# (npm test imports the build and checks every entry point of an enabled function).
#
# Every function gets local.function_environment (main.tf): exactly the variables the code reads.

locals {
  function_build_service_account = google_service_account.build.id
  function_docker_repository     = google_artifact_registry_repository.functions.id
  function_source = {
    bucket = google_storage_bucket.source.name
    object = google_storage_bucket_object.functions.name
  }
}

# --- Retry worker: HTTP, called only by Cloud Tasks ----------------------------------------------
# Not publicly invokable: no allUsers binding, and run.invoker on its Cloud Run service is held by the
# tasks invoker service account alone (iam.tf), whose OIDC token Cloud Tasks attaches to every task.
resource "google_cloudfunctions2_function" "retry_worker" {
  name        = var.retry_worker_function_name
  project     = var.project_id
  location    = var.region
  description = "hookshape: delivers scheduled webhook retries from Cloud Tasks."

  build_config {
    runtime           = var.function_runtime
    entry_point       = "retryWorker"
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
    service_account_email            = google_service_account.retry_worker.email
    available_memory                 = var.function_memory
    available_cpu                    = var.function_cpu
    max_instance_count               = var.worker_max_instances
    max_instance_request_concurrency = var.worker_concurrency
    timeout_seconds                  = var.worker_timeout_seconds
    ingress_settings                 = var.worker_ingress
    all_traffic_on_latest_revision   = true
    environment_variables            = local.function_environment
  }

  # The build needs its roles before Cloud Build starts.
  depends_on = [
    google_project_service.apis,
    google_project_iam_member.build_log_writer,
    google_project_iam_member.build_source_reader,
    google_artifact_registry_repository_iam_member.build_image_writer,
  ]
}

# --- Dispatcher: CloudEvent function on the events topic -----------------------------------------
resource "google_cloudfunctions2_function" "dispatch" {
  name        = var.dispatch_function_name
  project     = var.project_id
  location    = var.region
  description = "hookshape: turns platform events into webhook deliveries."

  build_config {
    runtime           = var.function_runtime
    entry_point       = "dispatchEvent"
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
    service_account_email            = google_service_account.dispatcher.email
    available_memory                 = var.function_memory
    available_cpu                    = var.function_cpu
    max_instance_count               = var.dispatch_max_instances
    max_instance_request_concurrency = var.dispatch_concurrency
    timeout_seconds                  = var.dispatch_timeout_seconds
    # Reached only by its Eventarc (Pub/Sub push) trigger, which counts as internal traffic.
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    environment_variables          = local.function_environment
  }

  event_trigger {
    trigger_region        = var.region
    event_type            = "google.cloud.pubsub.topic.v1.messagePublished"
    pubsub_topic          = google_pubsub_topic.events.id
    service_account_email = google_service_account.trigger.email
    # A thrown error (Firestore or Cloud Tasks unavailable) means "deliver this event again"; after
    # dead_letter_max_delivery_attempts it goes to the dead-letter topic (pubsub.tf).
    retry_policy = "RETRY_POLICY_RETRY"
  }

  # The build needs its roles before Cloud Build starts.
  depends_on = [
    google_project_service.apis,
    google_project_iam_member.build_log_writer,
    google_project_iam_member.build_source_reader,
    google_artifact_registry_repository_iam_member.build_image_writer,
    # The dispatcher enqueues retries to the worker from its first event on: create the worker and
    # the access the dispatcher needs first.
    google_cloudfunctions2_function.retry_worker,
    google_cloud_run_service_iam_member.retry_worker_invoker,
    google_project_iam_member.delivery_firestore,
    google_cloud_tasks_queue_iam_member.delivery_enqueuer,
    google_service_account_iam_member.delivery_act_as_invoker,
    google_project_iam_member.delivery_secret_accessor,
    google_project_iam_member.delivery_secret_lister,
  ]
}

# --- Repair sweep: HTTP, called only by Cloud Scheduler (scheduler.tf) ----------------------------
# Moves on deliveries left pending or retrying without a live owner. It never sends a webhook itself
# (the next attempt goes through the retry queue), so its identity reads no secrets.
resource "google_cloudfunctions2_function" "repair" {
  name        = var.repair_function_name
  project     = var.project_id
  location    = var.region
  description = "hookshape: recovers deliveries whose instance died or whose retry task was lost."

  build_config {
    runtime           = var.function_runtime
    entry_point       = "repairDeliveries"
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
    service_account_email = google_service_account.repair.email
    available_memory      = var.function_memory
    available_cpu         = var.function_cpu
    # One sweep at a time is enough; two would only race for the same records (each recovery is a
    # transaction, so a race is harmless).
    max_instance_count               = 1
    max_instance_request_concurrency = 1
    timeout_seconds                  = 300
    # Cloud Scheduler of the same project counts as internal traffic.
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    environment_variables          = local.function_environment
  }

  depends_on = [
    google_project_service.apis,
    google_project_iam_member.build_log_writer,
    google_project_iam_member.build_source_reader,
    google_artifact_registry_repository_iam_member.build_image_writer,
    google_project_iam_member.repair_firestore,
    google_cloud_tasks_queue_iam_member.repair_enqueuer,
    google_service_account_iam_member.repair_act_as_invoker,
  ]
}

# --- Dead-letter announcements: pushed to by the dead-letter topic's subscription (pubsub.tf) ------
# A function of its own, not a route of the dispatcher: the dispatcher may be what keeps failing. It
# reads each dead letter and publishes one hookshape.event.dead_lettered to the operations topic; it
# always answers 2xx (the original stays on the -inspect subscription), so its subscription needs no
# dead-letter policy and nothing loops.
resource "google_cloudfunctions2_function" "dead_letter_notify" {
  name        = var.dead_letter_function_name
  project     = var.project_id
  location    = var.region
  description = "hookshape: announces dead-lettered events (hookshape.event.dead_lettered)."

  build_config {
    runtime           = var.function_runtime
    entry_point       = "deadLetterNotify"
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
    service_account_email            = google_service_account.dead_letters.email
    available_memory                 = var.function_memory
    available_cpu                    = var.function_cpu
    max_instance_count               = 3
    max_instance_request_concurrency = 20
    timeout_seconds                  = 60
    # Reached only by its Pub/Sub push subscription, which counts as internal traffic.
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    environment_variables          = local.function_environment
  }

  depends_on = [
    google_project_service.apis,
    google_project_iam_member.build_log_writer,
    google_project_iam_member.build_source_reader,
    google_artifact_registry_repository_iam_member.build_image_writer,
    google_pubsub_topic_iam_member.dead_letters_operations_publisher,
  ]
}

# --- Webhook validation: Firestore document-written trigger (enable_validation_trigger) ----------
resource "google_cloudfunctions2_function" "validate_webhook" {
  count = var.enable_validation_trigger ? 1 : 0

  name        = var.validation_function_name
  project     = var.project_id
  location    = var.region
  description = "hookshape: validates webhook documents when they are written."

  build_config {
    runtime           = var.function_runtime
    entry_point       = "validateWebhook"
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
    service_account_email            = google_service_account.validator[0].email
    available_memory                 = var.function_memory
    available_cpu                    = var.function_cpu
    max_instance_count               = 5
    max_instance_request_concurrency = 10
    timeout_seconds                  = 60
    ingress_settings                 = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision   = true
    environment_variables            = local.function_environment
  }

  event_trigger {
    # Firestore events are emitted in the database's location; the trigger must listen there.
    trigger_region        = var.firestore_location
    event_type            = "google.cloud.firestore.document.v1.written"
    service_account_email = google_service_account.trigger.email
    # Validation is advisory and re-runs on the next write; a deterministic failure must not be
    # retried for a day.
    retry_policy = "RETRY_POLICY_DO_NOT_RETRY"

    event_filters {
      attribute = "database"
      value     = local.firestore_database
    }

    event_filters {
      attribute = "document"
      value     = "accounts/{accountId}/webhooks/{webhookId}"
      operator  = "match-path-pattern"
    }
  }

  depends_on = [
    google_project_service.apis,
    google_firestore_database.default,
    google_project_iam_member.build_log_writer,
    google_project_iam_member.build_source_reader,
    google_artifact_registry_repository_iam_member.build_image_writer,
    google_project_iam_member.trigger_event_receiver,
    google_project_iam_member.validator_firestore,
  ]
}

# RETRY_WORKER_URL was computed before the worker existed (main.tf); warn if Google ever answers with
# another URL, since every retry task would then target the wrong address.
check "retry_worker_url_matches" {
  assert {
    condition     = var.retry_worker_url_override != "" || google_cloudfunctions2_function.retry_worker.url == local.retry_worker_url
    error_message = "RETRY_WORKER_URL (${local.retry_worker_url}) differs from the retry worker's URL (${google_cloudfunctions2_function.retry_worker.url}): set retry_worker_url_override to the latter and apply again."
  }
}
