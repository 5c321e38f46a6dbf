# Firestore in native mode. Layout: functions/src/firestore/firestore-layout.ts.
resource "google_firestore_database" "default" {
  count = var.create_firestore_database ? 1 : 0

  project     = var.project_id
  name        = "(default)"
  location_id = var.firestore_location
  type        = "FIRESTORE_NATIVE"

  deletion_policy         = var.firestore_deletion_policy
  delete_protection_state = var.firestore_deletion_policy == "DELETE" ? "DELETE_PROTECTION_DISABLED" : "DELETE_PROTECTION_ENABLED"

  depends_on = [google_project_service.apis]
}

locals {
  firestore_database = "(default)"
}

# Composite indexes: exactly the queries of INDEXED_QUERIES with needsCompositeIndex = true (npm test
# compares collection group, scope, fields and their order, and rejects an index no query uses).
#
# The dispatcher's own query (WEBHOOKS_BY_EVENT_TYPE: webhooks where events array-contains a type,
# `enabled` filtered in code) has a single filter, which Firestore's automatic single-field indexes
# serve: it needs no composite index.

# DELIVERIES_BY_STATUS: one webhook's delivery log, of one status, newest first.
resource "google_firestore_index" "deliveries_by_status" {
  project     = var.project_id
  database    = local.firestore_database
  collection  = "deliveries"
  query_scope = "COLLECTION"

  fields {
    field_path = "status"
    order      = "ASCENDING"
  }

  fields {
    field_path = "createdAt"
    order      = "DESCENDING"
  }

  # Firestore appends __name__ (same direction as the last field) itself; the provider ignores it.

  depends_on = [google_firestore_database.default]
}

# STALE_PENDING_DELIVERIES and OVERDUE_RETRIES: the repair sweep's queries over every webhook's
# delivery log (collection group), oldest first.
resource "google_firestore_index" "stale_pending_deliveries" {
  project     = var.project_id
  database    = local.firestore_database
  collection  = "deliveries"
  query_scope = "COLLECTION_GROUP"

  fields {
    field_path = "status"
    order      = "ASCENDING"
  }

  fields {
    field_path = "updatedAt"
    order      = "ASCENDING"
  }

  depends_on = [google_firestore_database.default]
}

resource "google_firestore_index" "overdue_retries" {
  project     = var.project_id
  database    = local.firestore_database
  collection  = "deliveries"
  query_scope = "COLLECTION_GROUP"

  fields {
    field_path = "status"
    order      = "ASCENDING"
  }

  fields {
    field_path = "nextAttemptAt"
    order      = "ASCENDING"
  }

  depends_on = [google_firestore_database.default]
}

# The management API's queries (functions/src/api/). Account-wide ones are collection-group queries
# filtered by the record's accountId; each has its own index, as the API's filters combine.

# DELIVERIES_BY_EVENT_TYPE: one webhook's delivery log of one event type, newest first (API).
resource "google_firestore_index" "deliveries_by_event_type" {
  project     = var.project_id
  database    = local.firestore_database
  collection  = "deliveries"
  query_scope = "COLLECTION"

  fields {
    field_path = "eventType"
    order      = "ASCENDING"
  }

  fields {
    field_path = "createdAt"
    order      = "DESCENDING"
  }

  depends_on = [google_firestore_database.default]
}

# DELIVERIES_BY_STATUS_AND_EVENT_TYPE: one webhook's delivery log of one status and event type (API).
resource "google_firestore_index" "deliveries_by_status_and_event_type" {
  project     = var.project_id
  database    = local.firestore_database
  collection  = "deliveries"
  query_scope = "COLLECTION"

  fields {
    field_path = "status"
    order      = "ASCENDING"
  }

  fields {
    field_path = "eventType"
    order      = "ASCENDING"
  }

  fields {
    field_path = "createdAt"
    order      = "DESCENDING"
  }

  depends_on = [google_firestore_database.default]
}

# ACCOUNT_DELIVERIES: every delivery of one account, across its webhooks, newest first (API).
resource "google_firestore_index" "account_deliveries" {
  project     = var.project_id
  database    = local.firestore_database
  collection  = "deliveries"
  query_scope = "COLLECTION_GROUP"

  fields {
    field_path = "accountId"
    order      = "ASCENDING"
  }

  fields {
    field_path = "createdAt"
    order      = "DESCENDING"
  }

  depends_on = [google_firestore_database.default]
}

# ACCOUNT_DELIVERIES_BY_STATUS: an account's deliveries of one status, newest first (API list, bulk recover;
# hookshape status counts them).
resource "google_firestore_index" "account_deliveries_by_status" {
  project     = var.project_id
  database    = local.firestore_database
  collection  = "deliveries"
  query_scope = "COLLECTION_GROUP"

  fields {
    field_path = "accountId"
    order      = "ASCENDING"
  }

  fields {
    field_path = "status"
    order      = "ASCENDING"
  }

  fields {
    field_path = "createdAt"
    order      = "DESCENDING"
  }

  depends_on = [google_firestore_database.default]
}

# ACCOUNT_OLDEST_BY_STATUS: an account's oldest pending (or retrying) delivery, oldest first
# (hookshape status). A composite index is read in its own direction only: the newest-first one above
# does not serve it.
resource "google_firestore_index" "account_oldest_by_status" {
  project     = var.project_id
  database    = local.firestore_database
  collection  = "deliveries"
  query_scope = "COLLECTION_GROUP"

  fields {
    field_path = "accountId"
    order      = "ASCENDING"
  }

  fields {
    field_path = "status"
    order      = "ASCENDING"
  }

  fields {
    field_path = "createdAt"
    order      = "ASCENDING"
  }

  depends_on = [google_firestore_database.default]
}

# ACCOUNT_DELIVERIES_BY_EVENT_TYPE: an account's deliveries of one event type, newest first (API).
resource "google_firestore_index" "account_deliveries_by_event_type" {
  project     = var.project_id
  database    = local.firestore_database
  collection  = "deliveries"
  query_scope = "COLLECTION_GROUP"

  fields {
    field_path = "accountId"
    order      = "ASCENDING"
  }

  fields {
    field_path = "eventType"
    order      = "ASCENDING"
  }

  fields {
    field_path = "createdAt"
    order      = "DESCENDING"
  }

  depends_on = [google_firestore_database.default]
}

# ACCOUNT_DELIVERIES_BY_STATUS_AND_EVENT_TYPE: an account's deliveries of one status and event type (API).
resource "google_firestore_index" "account_deliveries_by_status_and_event_type" {
  project     = var.project_id
  database    = local.firestore_database
  collection  = "deliveries"
  query_scope = "COLLECTION_GROUP"

  fields {
    field_path = "accountId"
    order      = "ASCENDING"
  }

  fields {
    field_path = "status"
    order      = "ASCENDING"
  }

  fields {
    field_path = "eventType"
    order      = "ASCENDING"
  }

  fields {
    field_path = "createdAt"
    order      = "DESCENDING"
  }

  depends_on = [google_firestore_database.default]
}

# ACCOUNT_EVENT: a past event of an account by id, whichever webhook got it (API preview).
resource "google_firestore_index" "account_event" {
  project     = var.project_id
  database    = local.firestore_database
  collection  = "deliveries"
  query_scope = "COLLECTION_GROUP"

  fields {
    field_path = "accountId"
    order      = "ASCENDING"
  }

  fields {
    field_path = "eventId"
    order      = "ASCENDING"
  }

  depends_on = [google_firestore_database.default]
}

# TTL policy of the delivery log: Firestore deletes a deliveries document (in every webhook's
# deliveries subcollection: the policy is per collection group) some time after its expiresAt has
# passed. The functions set expiresAt = creation + DELIVERY_RETENTION_DAYS, so the retention is the
# delivery_retention_days variable. expiresAt is never queried, so its single-field indexes are
# switched off (index_config {}), as recommended for TTL timestamps that grow monotonically.
resource "google_firestore_field" "delivery_expiry" {
  project    = var.project_id
  database   = local.firestore_database
  collection = "deliveries"
  field      = "expiresAt"

  ttl_config {}

  index_config {}

  depends_on = [google_firestore_database.default]
}

# A delivery record's event (the platform's data, any JSON up to the message limit) and attempts (the
# receivers' answers) are never queried: their single-field indexes are off. Firestore refuses a
# document with more than 40,000 index entries, which a long array in an event would reach, and each
# indexed value costs every record write (DELIVERY_UNINDEXED_FIELDS in firestore-layout.ts).
resource "google_firestore_field" "delivery_unindexed" {
  for_each   = toset(["event", "attempts"])
  project    = var.project_id
  database   = local.firestore_database
  collection = "deliveries"
  field      = each.value

  index_config {}

  depends_on = [google_firestore_database.default]
}

# TTL policy of the event claims (accounts/{a}/eventClaims/{eventId}): one per dispatched event, the
# idempotency check of its deliveries (docs/deliveries.md). Their expiresAt is set like the delivery
# log's (creation + DELIVERY_RETENTION_DAYS), so a redelivered or republished event within the
# retention still finds its claim. Never queried: no single-field indexes.
resource "google_firestore_field" "event_claim_expiry" {
  project    = var.project_id
  database   = local.firestore_database
  collection = "eventClaims"
  field      = "expiresAt"

  ttl_config {}

  index_config {}

  depends_on = [google_firestore_database.default]
}

# TTL policy of the management API's Idempotency-Keys (accounts/{a}/idempotencyKeys/{sha256 of the
# key}): each keeps a POST's answer for a retry of it; expiresAt is a day after the request
# (api/idempotency.ts). Never queried: no single-field indexes (the kept answer is one string).
resource "google_firestore_field" "idempotency_key_expiry" {
  project    = var.project_id
  database   = local.firestore_database
  collection = "idempotencyKeys"
  field      = "expiresAt"

  ttl_config {}

  index_config {}

  depends_on = [google_firestore_database.default]
}
