# Topics, and how messages reach the functions.
#
# Every topic-triggered function is fed by a push subscription declared here rather than by an
# Eventarc trigger: Eventarc (and a 2nd-gen function's event_trigger) creates and owns its Pub/Sub
# subscription and has no argument for a dead-letter policy (retry_policy.max_attempts on an
# Eventarc trigger only accepts 1), so a poison message would be retried for 24 h and then
# dropped. Our own subscription pushes the same Pub/Sub envelope, authenticated with an OIDC token
# of a per-function push identity, with an exponential retry policy and a dead-letter topic.

resource "google_pubsub_topic" "topic" {
  for_each = toset(values(local.topics))

  name                       = each.value
  message_retention_duration = "86400s"

  depends_on = [google_project_service.api]
}

resource "google_pubsub_topic" "dead_letter" {
  name                       = local.dead_letter_topic
  message_retention_duration = "604800s"

  depends_on = [google_project_service.api]
}

# Keeps every dead letter for a week (messages on a topic without subscriptions are lost).
resource "google_pubsub_subscription" "dead_letter_keep" {
  name                       = "${local.dead_letter_topic}-keep"
  topic                      = google_pubsub_topic.dead_letter.id
  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"
  retain_acked_messages      = true

  expiration_policy {
    ttl = ""
  }
}

# A pull subscription on the lifecycle events, for watching rollouts from a terminal
# (`gcloud pubsub subscriptions pull rollout-events-watch --auto-ack`). Chat bridges and dashboards
# add their own subscriptions.
resource "google_pubsub_subscription" "events_watch" {
  name                       = "${local.topics.events}-watch"
  topic                      = google_pubsub_topic.topic[local.topics.events].id
  ack_deadline_seconds       = 60
  message_retention_duration = "86400s"

  expiration_policy {
    ttl = ""
  }
}

# One identity per push subscription: it may invoke its own function and nothing else.
resource "google_service_account" "push" {
  for_each = local.pubsub_triggered

  account_id   = "${var.name_prefix}-push-${each.value.short}"
  display_name = "Pub/Sub push to ${each.key}"
  description  = "OIDC identity of the ${each.value.trigger} push subscription; run.invoker on ${each.key} only."
}

resource "google_pubsub_subscription" "push" {
  for_each = local.pubsub_triggered

  name  = "${var.name_prefix}-${each.value.short}"
  topic = google_pubsub_topic.topic[each.value.trigger].id

  # For push, the ack deadline is the request timeout: longer than the function's own timeout.
  ack_deadline_seconds       = 600
  message_retention_duration = "86400s"

  push_config {
    # functions-framework turns a push envelope into the messagePublished CloudEvent and takes
    # its source from this path, so the handler knows which topic the message came from.
    push_endpoint = "${google_cloudfunctions2_function.fn[each.key].service_config[0].uri}/projects/${var.project_id}/topics/${each.value.trigger}"

    oidc_token {
      service_account_email = google_service_account.push[each.key].email
      audience              = google_cloudfunctions2_function.fn[each.key].service_config[0].uri
    }
  }

  retry_policy {
    minimum_backoff = var.retry_minimum_backoff
    maximum_backoff = var.retry_maximum_backoff
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.max_delivery_attempts
  }

  expiration_policy {
    ttl = ""
  }

  depends_on = [google_cloud_run_v2_service_iam_member.push_invoker]
}
