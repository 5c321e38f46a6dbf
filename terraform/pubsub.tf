# The events topic the platform publishes to. The dispatch function's Eventarc trigger (functions.tf)
# creates and owns the push subscription that delivers the messages; the topic's own retention lets
# that subscription be seeked back (gcloud pubsub subscriptions seek ... --time=...) to replay events.
resource "google_pubsub_topic" "events" {
  name    = var.events_topic_name
  project = var.project_id

  message_retention_duration = var.events_message_retention

  depends_on = [google_project_service.apis]
}

# Events the dispatcher failed dead_letter_max_delivery_attempts times end up here instead of being
# dropped when the subscription's retention (24 h for Eventarc subscriptions) runs out.
resource "google_pubsub_topic" "events_dead_letter" {
  name    = "${var.events_topic_name}-dead-letter"
  project = var.project_id

  message_retention_duration = var.events_message_retention

  depends_on = [google_project_service.apis]
}

# A topic without a subscription drops what is published to it: this one keeps dead letters for
# inspection (gcloud pubsub subscriptions pull) and re-publishing once the cause is fixed. (The -notify
# subscription below announces them; this one keeps the originals.)
resource "google_pubsub_subscription" "events_dead_letter" {
  name    = "${var.events_topic_name}-dead-letter-inspect"
  project = var.project_id
  topic   = google_pubsub_topic.events_dead_letter.id

  message_retention_duration = "604800s" # 7 days
  ack_deadline_seconds       = 60

  expiration_policy {
    ttl = "" # never expires, even when nobody pulls for a long time
  }
}

# Each dead letter is also pushed to deadLetterNotify (functions.tf), which announces it to its account
# as hookshape.event.dead_lettered on the operations topic. Authenticated with the trigger account's
# OIDC token (run.invoker on that function, iam.tf). No dead-letter policy: the function always answers
# 2xx, and a subscription of the dead-letter topic must never dead-letter into it (a loop); a dead
# letter about a hookshape.* event announces nothing (events/dead-letters.ts).
resource "google_pubsub_subscription" "events_dead_letter_notify" {
  name    = "${var.events_topic_name}-dead-letter-notify"
  project = var.project_id
  topic   = google_pubsub_topic.events_dead_letter.id

  ack_deadline_seconds = 60

  push_config {
    push_endpoint = "${google_cloudfunctions2_function.dead_letter_notify.url}/projects/${var.project_id}/topics/${google_pubsub_topic.events_dead_letter.name}"

    oidc_token {
      service_account_email = google_service_account.trigger.email
      audience              = google_cloudfunctions2_function.dead_letter_notify.url
    }
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  expiration_policy {
    ttl = "" # never expires
  }

  depends_on = [google_cloud_run_service_iam_member.dead_letters_trigger_invoker]
}

# Pub/Sub forwards dead letters as its service agent, which needs to publish to the dead-letter
# topic (and to subscribe to the source subscription: granted with the attachment below).
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.events_dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${local.pubsub_service_agent}"
}

locals {
  # projects/P/locations/L/triggers/T of the dispatcher's Eventarc trigger.
  dispatch_trigger = google_cloudfunctions2_function.dispatch.event_trigger[0].trigger

  # Eventarc creates the dispatcher's subscription (eventarc-REGION-...-sub-NNN) and no Terraform
  # resource can own it, so the dead-letter policy is set on it with gcloud, as the Eventarc
  # documentation describes. Also printed as an output for runs without gcloud.
  dead_letter_attach_script = <<-EOT
    set -euo pipefail
    subscription="$(gcloud eventarc triggers describe "$TRIGGER" --project "$PROJECT" --format='value(transport.pubsub.subscription)')"
    if [ -z "$subscription" ]; then
      echo "Eventarc trigger $TRIGGER has no Pub/Sub subscription (yet)" >&2
      exit 1
    fi
    gcloud pubsub subscriptions update "$subscription" --project "$PROJECT" \
      --dead-letter-topic "$DEAD_LETTER_TOPIC" --max-delivery-attempts "$MAX_ATTEMPTS"
    gcloud pubsub subscriptions add-iam-policy-binding "$subscription" --project "$PROJECT" \
      --member "serviceAccount:$PUBSUB_AGENT" --role roles/pubsub.subscriber >/dev/null
    echo "dead-letter topic $DEAD_LETTER_TOPIC attached to $subscription"
  EOT
}

resource "terraform_data" "dead_letter_policy" {
  count = var.attach_dead_letter_policy ? 1 : 0

  # Runs again whenever the trigger (and so its subscription) or the policy changes.
  triggers_replace = [
    local.dispatch_trigger,
    google_pubsub_topic.events_dead_letter.id,
    var.dead_letter_max_delivery_attempts,
  ]

  provisioner "local-exec" {
    interpreter = ["bash", "-c"]
    command     = local.dead_letter_attach_script
    environment = {
      PROJECT           = var.project_id
      TRIGGER           = local.dispatch_trigger
      DEAD_LETTER_TOPIC = google_pubsub_topic.events_dead_letter.id
      MAX_ATTEMPTS      = tostring(var.dead_letter_max_delivery_attempts)
      PUBSUB_AGENT      = local.pubsub_service_agent
    }
  }

  depends_on = [google_pubsub_topic_iam_member.dead_letter_publisher]
}

# hookshape's own events (hookshape.delivery.failed, hookshape.webhook.disabled, hookshape.webhook.invalid,
# hookshape.event.dead_lettered: functions/src/events/operational-events.ts). The functions publish here; operators may add their own
# subscriptions (a pull subscription to watch, a BigQuery export).
resource "google_pubsub_topic" "operations" {
  name    = var.operations_topic_name
  project = var.project_id

  message_retention_duration = var.events_message_retention

  depends_on = [google_project_service.apis]
}

# The operations topic reaches the same dispatch function as the platform's events, so an account's
# webhook subscribes to its own failures like to any event. A push subscription (not a second
# Eventarc trigger: a function has one) to the path /projects/P/topics/T, which the functions
# framework turns into the same CloudEvent Eventarc sends; authenticated with the trigger account's
# OIDC token (run.invoker on the dispatcher, iam.tf). Terraform owns it, so its dead-letter policy is
# set here: an operational event the dispatcher keeps failing goes to the events' dead-letter topic.
resource "google_pubsub_subscription" "operations_dispatch" {
  name    = "${var.operations_topic_name}-dispatch"
  project = var.project_id
  topic   = google_pubsub_topic.operations.id

  ack_deadline_seconds = 600

  push_config {
    push_endpoint = "${google_cloudfunctions2_function.dispatch.url}/projects/${var.project_id}/topics/${google_pubsub_topic.operations.name}"

    oidc_token {
      service_account_email = google_service_account.trigger.email
      audience              = google_cloudfunctions2_function.dispatch.url
    }
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.events_dead_letter.id
    max_delivery_attempts = var.dead_letter_max_delivery_attempts
  }

  expiration_policy {
    ttl = "" # never expires
  }

  depends_on = [google_pubsub_topic_iam_member.dead_letter_publisher]
}

# Pub/Sub moves dead letters as its service agent, which must be able to acknowledge them here.
resource "google_pubsub_subscription_iam_member" "operations_dead_letter_subscriber" {
  project      = var.project_id
  subscription = google_pubsub_subscription.operations_dispatch.name
  role         = "roles/pubsub.subscriber"
  member       = "serviceAccount:${local.pubsub_service_agent}"
}
