# Rollout state (docs/state.md): rollouts/{id} with history, routeLocks, processedMessages, routeOperations.

resource "google_firestore_database" "db" {
  count = var.create_firestore_database ? 1 : 0

  name        = var.firestore_database
  location_id = coalesce(var.firestore_location, var.region)
  type        = "FIRESTORE_NATIVE"
  # Keep the data when the controller is uninstalled (delete it by hand if you mean to).
  deletion_policy = "ABANDON"

  depends_on = [google_project_service.api]
}

locals {
  firestore_database = var.create_firestore_database ? google_firestore_database.db[0].name : var.firestore_database
}

# The due-rollouts query (nextActionAt <= now ORDER BY nextActionAt) is a range on one field:
# Firestore's automatic single-field index serves it, so it needs no composite index.

# rolloutctl history --route R: routes array-contains R [AND createdAt >= since]
# ORDER BY createdAt DESC, __name__ DESC (functions/adapters/firestore-rollout-document.ts).
# Without --route the automatic single-field index on createdAt serves it.
resource "google_firestore_index" "rollouts_by_route" {
  database    = local.firestore_database
  collection  = "rollouts"
  query_scope = "COLLECTION"

  fields {
    field_path   = "routes"
    array_config = "CONTAINS"
  }
  fields {
    field_path = "createdAt"
    order      = "DESCENDING"
  }
  fields {
    field_path = "__name__"
    order      = "DESCENDING"
  }

  depends_on = [google_project_service.api]
}

# Route operations nobody reported back on: state == pending AND startedAt <= t ORDER BY startedAt.
resource "google_firestore_index" "route_operations_stray" {
  database    = local.firestore_database
  collection  = "routeOperations"
  query_scope = "COLLECTION"

  fields {
    field_path = "state"
    order      = "ASCENDING"
  }
  fields {
    field_path = "startedAt"
    order      = "ASCENDING"
  }

  depends_on = [google_project_service.api]
}

# Handled Pub/Sub message ids expire: Firestore's TTL deletes a record after its expireAt
# (typically within 24 h of it).
resource "google_firestore_field" "processed_messages_ttl" {
  database   = local.firestore_database
  collection = "processedMessages"
  field      = "expireAt"

  ttl_config {}
  # No single-field indexes on the TTL timestamp: nothing queries it, and an index on a
  # monotonically increasing value would only add write cost and hotspots.
  index_config {}

  depends_on = [google_project_service.api]
}
