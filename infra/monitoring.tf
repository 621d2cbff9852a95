# Alerts roll canaries back: Cloud Monitoring notifies the rollout-alerts topic through a Pub/Sub
# notification channel, and onAlert maps each incident to rollouts by the alert policy's user
# labels (functions/app/alert.ts):
#   rollout_id      the rollout itself
#   rollout_route   the HTTPRoute's short name (its active rollout)
#   rollout_canary  the canary's backend service or Cloud Run service name
# With both rollout_route and rollout_canary (the backend service), an alert takes the canary out
# of the route even while Firestore cannot be reached (docs/deploy.md).
# Without labels a cloud_run_revision incident maps by service_name to the rollout whose canary
# it is.

resource "google_monitoring_notification_channel" "alerts" {
  display_name = "Canary controller (${local.topics.alerts})"
  description  = "Incidents for the canary controller: rolls the concerned canary back."
  type         = "pubsub"
  labels = {
    topic = google_pubsub_topic.topic[local.topics.alerts].id
  }
  force_delete = true

  depends_on = [google_project_service.api]
}

locals {
  # Known from variables alone, so the policy's count is known at plan time.
  example_alert = var.example_alert_canary_service != null || var.example_mesh
  example_alert_canary_service = (
    var.example_alert_canary_service != null ? var.example_alert_canary_service :
    var.example_mesh ? module.example_mesh[0].canary_service : ""
  )
}

# An example policy for one canary Cloud Run service: its 5xx share of requests over a minute.
resource "google_monitoring_alert_policy" "canary_5xx" {
  count = local.example_alert ? 1 : 0

  display_name          = "Canary ${local.example_alert_canary_service}: 5xx ratio above ${var.example_alert_max_error_ratio}"
  combiner              = "OR"
  severity              = "CRITICAL"
  notification_channels = [google_monitoring_notification_channel.alerts.id]

  user_labels = {
    rollout_canary = local.example_alert_canary_service
  }

  conditions {
    display_name = "5xx / all requests of ${local.example_alert_canary_service}"

    condition_threshold {
      filter             = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name = \"${local.example_alert_canary_service}\" AND metric.type = \"run.googleapis.com/request_count\" AND metric.labels.response_code_class = \"5xx\""
      denominator_filter = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name = \"${local.example_alert_canary_service}\" AND metric.type = \"run.googleapis.com/request_count\""
      comparison         = "COMPARISON_GT"
      threshold_value    = var.example_alert_max_error_ratio
      duration           = "60s"

      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.service_name"]
      }
      denominator_aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.service_name"]
      }

      trigger {
        count = 1
      }
      # No traffic is not an incident (the controller itself treats missing data as inconclusive).
      evaluation_missing_data = "EVALUATION_MISSING_DATA_INACTIVE"
    }
  }

  alert_strategy {
    # CLOSED too: the controller records when the incident that concerned a rollout closed.
    notification_prompts = ["OPENED", "CLOSED"]
    auto_close           = "1800s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "The canary controller rolls back the active rollout whose canary is `${local.example_alert_canary_service}` when this opens (label `rollout_canary`)."
  }
}

# Dead letters mean a message was given up on: tell the operators.
resource "google_monitoring_alert_policy" "dead_letters" {
  display_name          = "Canary controller: dead-lettered messages"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = var.operator_notification_channels

  conditions {
    display_name = "messages waiting in ${google_pubsub_subscription.dead_letter_keep.name}"

    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND resource.labels.subscription_id = \"${google_pubsub_subscription.dead_letter_keep.name}\" AND metric.type = \"pubsub.googleapis.com/subscription/num_undelivered_messages\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A controller function failed on a message ${var.max_delivery_attempts} times. Read it with `gcloud pubsub subscriptions pull ${google_pubsub_subscription.dead_letter_keep.name} --limit=10` and the function logs; see docs/deploy.md."
  }
}
