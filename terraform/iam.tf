# Identities and every role binding, narrowest first. No primitive role (owner/editor/viewer) and no
# public member (allUsers/allAuthenticatedUsers) anywhere: npm test refuses both.
#
#   dispatcher      runs dispatchEvent        Firestore, enqueue on the retry queue, act as the tasks
#                                              invoker, read hookshape-- secrets (list secret names)
#   retry worker    runs retryWorker          the same: it delivers, logs, and enqueues the next retry
#   tasks invoker   identity of Cloud Tasks'  run.invoker on the retry worker, and nothing else
#                   OIDC token
#   trigger         identity of the Eventarc  run.invoker on the event-driven functions (+ Eventarc
#                   triggers                  event receiver when the Firestore trigger exists)
#   build           Cloud Build, on deploy    logs, push to this deployment's image repository, read
#                                              the uploaded source
#   validator       runs validateWebhook      Firestore (only when enable_validation_trigger)
#   repair          runs repairDeliveries     Firestore, enqueue on the retry queue, act as the tasks
#                                              invoker; no secrets (it never sends a webhook)
#   repair          identity of Cloud         run.invoker on the repair function, and nothing else
#   scheduler       Scheduler's OIDC token
#   dead letters    runs deadLetterNotify     publish to the operations topic, nothing else (no
#                                              Firestore, no secrets); the trigger account's push
#                                              OIDC token invokes it

resource "google_service_account" "dispatcher" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-dispatcher"
  display_name = "hookshape dispatch function"
  description  = "Runtime identity of the dispatch function (dispatchEvent)."

  depends_on = [google_project_service.apis]
}

resource "google_service_account" "retry_worker" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-retry-worker"
  display_name = "hookshape retry worker"
  description  = "Runtime identity of the retry worker function (retryWorker)."

  depends_on = [google_project_service.apis]
}

resource "google_service_account" "tasks_invoker" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-tasks-invoker"
  display_name = "hookshape Cloud Tasks invoker"
  description  = "Identity in the OIDC token Cloud Tasks sends to the retry worker. May only invoke the retry worker."

  depends_on = [google_project_service.apis]
}

resource "google_service_account" "trigger" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-trigger"
  display_name = "hookshape Eventarc triggers"
  description  = "Identity Eventarc uses to push events to the hookshape functions."

  depends_on = [google_project_service.apis]
}

resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-build"
  display_name = "hookshape function builds"
  description  = "Cloud Build identity when the hookshape functions are deployed."

  depends_on = [google_project_service.apis]
}

resource "google_service_account" "validator" {
  count = var.enable_validation_trigger ? 1 : 0

  project      = var.project_id
  account_id   = "${var.name_prefix}-validator"
  display_name = "hookshape webhook validation"
  description  = "Runtime identity of the webhook validation function (validateWebhook)."

  depends_on = [google_project_service.apis]
}

resource "google_service_account" "repair" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-repair"
  display_name = "hookshape repair sweep"
  description  = "Runtime identity of the repair sweep function (repairDeliveries)."

  depends_on = [google_project_service.apis]
}

resource "google_service_account" "dead_letters" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-dead-letters"
  display_name = "hookshape dead-letter announcements"
  description  = "Runtime identity of the function that announces dead-lettered events (deadLetterNotify). May only publish to the operations topic."

  depends_on = [google_project_service.apis]
}

resource "google_service_account" "repair_scheduler" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-repair-scheduler"
  display_name = "hookshape repair schedule"
  description  = "Identity in the OIDC token Cloud Scheduler sends to the repair sweep. May only invoke the repair function."

  depends_on = [google_project_service.apis]
}

locals {
  # The two functions that deliver webhooks need the same access.
  delivery_members = {
    dispatcher   = "serviceAccount:${google_service_account.dispatcher.email}"
    retry_worker = "serviceAccount:${google_service_account.retry_worker.email}"
  }
}

# --- Dispatcher and retry worker -----------------------------------------------------------------

# Read webhooks, write the delivery log and invalid events. Firestore has no finer predefined role
# than project-level datastore.user for reads and writes of documents.
resource "google_project_iam_member" "delivery_firestore" {
  for_each = local.delivery_members

  project = var.project_id
  role    = "roles/datastore.user"
  member  = each.value
}

# Create retry tasks, on the retry queue only (not project-wide).
resource "google_cloud_tasks_queue_iam_member" "delivery_enqueuer" {
  for_each = local.delivery_members

  project  = var.project_id
  location = google_cloud_tasks_queue.retries.location
  name     = google_cloud_tasks_queue.retries.name
  role     = "roles/cloudtasks.enqueuer"
  member   = each.value
}

# A task carrying an OIDC token of the tasks invoker can only be created by someone allowed to act as
# that account (iam.serviceAccounts.actAs). Granted on that one account, not on the project, so the
# functions cannot act as any other service account.
resource "google_service_account_iam_member" "delivery_act_as_invoker" {
  for_each = local.delivery_members

  service_account_id = google_service_account.tasks_invoker.name
  role               = "roles/iam.serviceAccountUser"
  member             = each.value
}

# Templates' {{ secrets.NAME }}: the functions read secret hookshape--<accountId>--<NAME>. The role is
# granted on the project (secrets are created later, by people, so there is nothing to bind to at
# apply time) with an IAM condition that only matches secrets whose name starts with hookshape--.
# Secret Manager evaluates resource.name as projects/<project NUMBER>/secrets/<id>[/versions/<v>],
# hence the number. Other secrets of the project stay unreadable.
resource "google_project_iam_member" "delivery_secret_accessor" {
  for_each = local.delivery_members

  project = var.project_id
  role    = "roles/secretmanager.secretAccessor"
  member  = each.value

  condition {
    title       = "hookshape-secrets-only"
    description = "Only Secret Manager secrets named ${local.secret_name_prefix}<accountId>--<NAME>."
    expression  = "resource.name.startsWith(\"projects/${local.project_number}/secrets/${local.secret_name_prefix}\")"
  }
}

# The secret store finds an account's secrets by listing hookshape--<accountId>-- ids
# (functions/src/secrets/secret-manager-secret-store.ts). Listing is checked on the project, where a
# resource.name condition cannot match, and the accessor role does not include it; this custom role
# holds that one permission: the functions see secret names and metadata, never another value.
resource "google_project_iam_custom_role" "secret_lister" {
  project     = var.project_id
  role_id     = "${replace(var.name_prefix, "-", "_")}_secret_lister"
  title       = "hookshape secret lister"
  description = "List Secret Manager secret names (not their values), to find an account's hookshape-- secrets."
  permissions = ["secretmanager.secrets.list"]

  depends_on = [google_project_service.apis]
}

resource "google_project_iam_member" "delivery_secret_lister" {
  for_each = local.delivery_members

  project = var.project_id
  role    = google_project_iam_custom_role.secret_lister.name
  member  = each.value
}

# --- Repair sweep ----------------------------------------------------------------------------------

# Read and move on delivery records (collection-group queries, transactions), read webhooks.
resource "google_project_iam_member" "repair_firestore" {
  project = var.project_id
  role    = "roles/datastore.user"
  member  = "serviceAccount:${google_service_account.repair.email}"
}

# Enqueue the next attempt of a recovered delivery, on the retry queue only.
resource "google_cloud_tasks_queue_iam_member" "repair_enqueuer" {
  project  = var.project_id
  location = google_cloud_tasks_queue.retries.location
  name     = google_cloud_tasks_queue.retries.name
  role     = "roles/cloudtasks.enqueuer"
  member   = "serviceAccount:${google_service_account.repair.email}"
}

# Its tasks carry the tasks invoker's OIDC token, like every retry task.
resource "google_service_account_iam_member" "repair_act_as_invoker" {
  service_account_id = google_service_account.tasks_invoker.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.repair.email}"
}

# Cloud Scheduler's identity may invoke the repair function and nothing else.
resource "google_cloud_run_service_iam_member" "repair_invoker" {
  project  = var.project_id
  location = google_cloudfunctions2_function.repair.location
  service  = google_cloudfunctions2_function.repair.name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.repair_scheduler.email}"
}

# --- Tasks invoker: the only principal that may call the retry worker ------------------------------

resource "google_cloud_run_service_iam_member" "retry_worker_invoker" {
  project  = var.project_id
  location = google_cloudfunctions2_function.retry_worker.location
  # A gen2 function runs as the Cloud Run service of the same name.
  service = google_cloudfunctions2_function.retry_worker.name
  role    = "roles/run.invoker"
  member  = "serviceAccount:${google_service_account.tasks_invoker.email}"
}

# --- Eventarc trigger identity -------------------------------------------------------------------

resource "google_cloud_run_service_iam_member" "dispatch_trigger_invoker" {
  project  = var.project_id
  location = google_cloudfunctions2_function.dispatch.location
  service  = google_cloudfunctions2_function.dispatch.name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.trigger.email}"
}

resource "google_cloud_run_service_iam_member" "validation_trigger_invoker" {
  count = var.enable_validation_trigger ? 1 : 0

  project  = var.project_id
  location = google_cloudfunctions2_function.validate_webhook[0].location
  service  = google_cloudfunctions2_function.validate_webhook[0].name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.trigger.email}"
}

# The dead-letter topic's push subscription (pubsub.tf) authenticates as the trigger account too.
resource "google_cloud_run_service_iam_member" "dead_letters_trigger_invoker" {
  project  = var.project_id
  location = google_cloudfunctions2_function.dead_letter_notify.location
  service  = google_cloudfunctions2_function.dead_letter_notify.name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.trigger.email}"
}

# Triggers on direct Firestore events need the event receiver role; Pub/Sub triggers do not, so it is
# only granted with the Firestore trigger.
resource "google_project_iam_member" "trigger_event_receiver" {
  count = var.enable_validation_trigger ? 1 : 0

  project = var.project_id
  role    = "roles/eventarc.eventReceiver"
  member  = "serviceAccount:${google_service_account.trigger.email}"
}

# Pub/Sub pushes to the dispatcher with an OIDC token of the trigger account; Pub/Sub service agents
# created on or before 8 April 2021 need to be allowed to mint it. Bound on the trigger account only.
resource "google_service_account_iam_member" "pubsub_token_creator" {
  count = var.grant_pubsub_token_creator ? 1 : 0

  service_account_id = google_service_account.trigger.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${local.pubsub_service_agent}"

  depends_on = [google_pubsub_topic.events]
}

# --- Build identity ------------------------------------------------------------------------------
# Since mid-2024 new projects build functions as the Compute Engine default service account, which
# organisations commonly leave without roles; a dedicated build account works everywhere.

resource "google_project_iam_member" "build_log_writer" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = "serviceAccount:${google_service_account.build.email}"
}

# Cloud Functions stages the uploaded source in its own gcf-v2-sources-* bucket before the build
# reads it; that bucket does not exist before the first deploy, so read access is project-wide (read
# only, objects only).
resource "google_project_iam_member" "build_source_reader" {
  project = var.project_id
  role    = "roles/storage.objectViewer"
  member  = "serviceAccount:${google_service_account.build.email}"
}

resource "google_artifact_registry_repository_iam_member" "build_image_writer" {
  project    = var.project_id
  location   = google_artifact_registry_repository.functions.location
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.writer"
  member     = "serviceAccount:${google_service_account.build.email}"
}

# --- Validator (only with the Firestore trigger) -------------------------------------------------

resource "google_project_iam_member" "validator_firestore" {
  count = var.enable_validation_trigger ? 1 : 0

  project = var.project_id
  role    = "roles/datastore.user"
  member  = "serviceAccount:${google_service_account.validator[0].email}"
}

# --- Rate-limited webhooks' own queues -----------------------------------------------------------
# A webhook with `rateLimit` gets a Cloud Tasks queue of its own, TASKS_RATE_LIMITED_QUEUE_PREFIX plus
# a hash of account and webhook, created by the functions on its first delivery and updated when the
# limit changes (functions/src/tasks/cloud-tasks-retry-scheduler.ts). Those queues do not exist at
# apply time, so the grant is on the project, in a custom role with only what that code calls:
# GetQueue/CreateQueue/UpdateQueue, CreateTask, and GetTask (a recovery checks that a throttled retry
# is still queued before it takes one over). No delete: a deleted queue's name is blocked for 7 days.
resource "google_project_iam_custom_role" "rate_limited_queues" {
  project     = var.project_id
  role_id     = "${replace(var.name_prefix, "-", "_")}_rate_limited_queues"
  title       = "hookshape rate-limited queues"
  description = "Create, read and update the Cloud Tasks queues of rate-limited webhooks, and create and read their tasks."
  permissions = [
    "cloudtasks.queues.create",
    "cloudtasks.queues.get",
    "cloudtasks.queues.update",
    "cloudtasks.tasks.create",
    "cloudtasks.tasks.get",
  ]

  depends_on = [google_project_service.apis]
}

# Everyone who enqueues a delivery's attempt: the dispatcher and the retry worker, the repair sweep
# (recoveries) and the management API (replays).
locals {
  rate_limited_queue_members = {
    dispatcher   = "serviceAccount:${google_service_account.dispatcher.email}"
    retry_worker = "serviceAccount:${google_service_account.retry_worker.email}"
    repair       = "serviceAccount:${google_service_account.repair.email}"
    api          = "serviceAccount:${google_service_account.api.email}"
  }
}

resource "google_project_iam_member" "rate_limited_queues" {
  for_each = local.rate_limited_queue_members

  project = var.project_id
  role    = google_project_iam_custom_role.rate_limited_queues.name
  member  = each.value
}

# --- Operational events ----------------------------------------------------------------------------
# The functions that end deliveries (dispatcher, retry worker, repair sweep) or validate webhooks
# announce it on the operations topic: they may publish there, and nowhere else.

resource "google_pubsub_topic_iam_member" "operations_publisher" {
  for_each = local.delivery_members

  project = var.project_id
  topic   = google_pubsub_topic.operations.name
  role    = "roles/pubsub.publisher"
  member  = each.value
}

resource "google_pubsub_topic_iam_member" "repair_operations_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.operations.name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_service_account.repair.email}"
}

# deadLetterNotify announces each dead-lettered event (hookshape.event.dead_lettered); it does nothing else.
resource "google_pubsub_topic_iam_member" "dead_letters_operations_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.operations.name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_service_account.dead_letters.email}"
}

resource "google_pubsub_topic_iam_member" "validator_operations_publisher" {
  count = var.enable_validation_trigger ? 1 : 0

  project = var.project_id
  topic   = google_pubsub_topic.operations.name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_service_account.validator[0].email}"
}
