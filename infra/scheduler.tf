# The tick: once a minute, hand every rollout that is due (scheduler-driven rollouts, and
# workflow-driven ones whose execution died) out on rollout-advance, one message each, for
# advanceDue instances to advance in parallel.

resource "google_cloud_scheduler_job" "tick" {
  name        = "${var.name_prefix}-tick"
  region      = var.region
  description = "Publishes to ${local.topics.tick}: the tick function hands every due rollout out to advanceDue."
  schedule    = var.tick_schedule
  time_zone   = var.tick_time_zone

  pubsub_target {
    topic_name = google_pubsub_topic.topic[local.topics.tick].id
    # The tick accepts any body; Pub/Sub needs a non-empty one (or attributes).
    data = base64encode(jsonencode({ source = "cloud-scheduler" }))
  }

  # A missed minute is made up by the next one; do not stack retries.
  retry_config {
    retry_count = 0
  }

  depends_on = [google_project_service.api]
}
