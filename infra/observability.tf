# Rollouts in the operator's own console (docs/observability.md): every controller log line of a
# committed change carries a `rollout` object (functions/core/log-fields.ts); log-based metrics
# extract weights, error ratios, e-values, rollbacks and rollouts waiting for a person from it, a
# dashboard charts them and an alert policy tells the operators when a rollout needs a person.
# test/infra/observability.test.ts evaluates these locals with Terraform and matches every filter
# and extractor against the lines the controller writes.

locals {
  # The controller's Cloud Run services that commit rollout changes: those that publish lifecycle
  # events (every function but the tick, which hands rollouts out and changes none; it only
  # re-sends lost events from the outbox).
  rollout_log_services = sort([
    for name, f in local.functions : local.function_names[name] if contains(f.publishes, local.topics.events) && name != "tick"
  ])

  # A committed change, as logged by one of those services.
  rollout_log_filter = join(" AND ", [
    "resource.type = \"cloud_run_revision\"",
    "resource.labels.service_name = (${join(" OR ", [for s in local.rollout_log_services : "\"${s}\""])})",
    "jsonPayload.rollout.event:\"rollout.\"",
  ])

  # One entry per log-based metric (all DELTA: the only kind Cloud Logging writes). `field` is the
  # value extracted (null: a counter of matching lines), `labels` maps each metric label to the
  # field it is extracted from, `bounds` are the distribution's explicit bucket bounds.
  rollout_log_metrics = tomap({
    canary_weight = {
      name        = "${var.name_prefix}_rollout_canary_weight"
      description = "Canary share of traffic (percent) confirmed live after each committed rollout change."
      filter      = local.rollout_log_filter
      value_type  = "DISTRIBUTION"
      unit        = "%"
      field       = "jsonPayload.rollout.canaryWeight"
      labels      = { rollout_id = "jsonPayload.rollout.id", route = "jsonPayload.rollout.route" }
      bounds      = [0, 1, 5, 10, 20, 25, 30, 40, 50, 60, 70, 75, 80, 90, 95, 100]
    }
    canary_error_ratio = {
      name        = "${var.name_prefix}_rollout_canary_error_ratio"
      description = "The canary's 5xx share of requests in each judged analysis window (logged with the change the verdict made)."
      filter      = "${local.rollout_log_filter} AND jsonPayload.rollout.canaryErrorRatio:*"
      value_type  = "DISTRIBUTION"
      unit        = "1"
      field       = "jsonPayload.rollout.canaryErrorRatio"
      labels      = { rollout_id = "jsonPayload.rollout.id", route = "jsonPayload.rollout.route" }
      bounds      = [0, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1]
    }
    stable_error_ratio = {
      name        = "${var.name_prefix}_rollout_stable_error_ratio"
      description = "The stable backend's 5xx share of requests in each judged analysis window."
      filter      = "${local.rollout_log_filter} AND jsonPayload.rollout.stableErrorRatio:*"
      value_type  = "DISTRIBUTION"
      unit        = "1"
      field       = "jsonPayload.rollout.stableErrorRatio"
      labels      = { rollout_id = "jsonPayload.rollout.id", route = "jsonPayload.rollout.route" }
      bounds      = [0, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1]
    }
    e_value = {
      name        = "${var.name_prefix}_rollout_e_value"
      description = "The sequential comparison's e-value after each judged window (the canary is rolled back once it reaches its threshold)."
      filter      = "${local.rollout_log_filter} AND jsonPayload.rollout.eValue:*"
      value_type  = "DISTRIBUTION"
      unit        = "1"
      field       = "jsonPayload.rollout.eValue"
      labels      = { rollout_id = "jsonPayload.rollout.id", route = "jsonPayload.rollout.route" }
      bounds      = [0.01, 0.1, 0.5, 1, 2, 5, 10, 20, 50, 100, 1000, 10000, 1000000]
    }
    e_value_threshold = {
      name        = "${var.name_prefix}_rollout_e_value_threshold"
      description = "The e-value threshold (1/alpha) the rollout's comparison is judged against, logged with each judged window."
      filter      = "${local.rollout_log_filter} AND jsonPayload.rollout.eValueThreshold:*"
      value_type  = "DISTRIBUTION"
      unit        = "1"
      field       = "jsonPayload.rollout.eValueThreshold"
      labels      = { rollout_id = "jsonPayload.rollout.id", route = "jsonPayload.rollout.route" }
      bounds      = [1, 2, 5, 10, 20, 50, 100, 1000, 10000, 1000000]
    }
    rollbacks = {
      name        = "${var.name_prefix}_rollout_rollbacks"
      description = "Rollouts rolled back (the route shows all traffic on stable again), by cause."
      filter      = "${local.rollout_log_filter} AND jsonPayload.rollout.event = \"rollout.rolled_back\""
      value_type  = "INT64"
      unit        = "1"
      field       = null
      labels      = { rollout_id = "jsonPayload.rollout.id", route = "jsonPayload.rollout.route", cause = "jsonPayload.rollout.rollbackCause" }
      bounds      = []
    }
    needs_person = {
      name        = "${var.name_prefix}_rollout_needs_person"
      description = "Rollouts that stopped for a person: ActionRequired on the route, or paused for a reason no person asked for."
      filter      = "${local.rollout_log_filter} AND jsonPayload.rollout.event = (\"rollout.action_required\" OR \"rollout.paused\") AND jsonPayload.rollout.needsPerson:*"
      value_type  = "INT64"
      unit        = "1"
      field       = null
      labels      = { rollout_id = "jsonPayload.rollout.id", route = "jsonPayload.rollout.route", reason = "jsonPayload.rollout.needsPerson" }
      bounds      = []
    }
  })

  rollout_metric_types = { for key, m in local.rollout_log_metrics : key => "logging.googleapis.com/user/${m.name}" }
  rollout_chart_filters = {
    for key, type in local.rollout_metric_types : key => "metric.type = \"${type}\" AND resource.type = \"cloud_run_revision\""
  }

  # Distributions: the mean of the values logged in each minute, one line per rollout.
  rollout_mean_by_rollout = {
    alignmentPeriod    = "60s"
    perSeriesAligner   = "ALIGN_MEAN"
    crossSeriesReducer = "REDUCE_MEAN"
    groupByFields      = ["metric.label.rollout_id"]
  }

  rollout_dashboard = {
    displayName = "Canary controller: rollouts"
    mosaicLayout = {
      columns = 12
      tiles = [
        {
          xPos = 0, yPos = 0, width = 6, height = 4
          widget = {
            title = "Canary weight (%), per rollout"
            xyChart = {
              dataSets = [{
                plotType        = "LINE"
                timeSeriesQuery = { timeSeriesFilter = { filter = local.rollout_chart_filters.canary_weight, aggregation = local.rollout_mean_by_rollout } }
              }]
              yAxis = { label = "canary %", scale = "LINEAR" }
            }
          }
        },
        {
          xPos = 6, yPos = 0, width = 6, height = 4
          widget = {
            title = "5xx ratio per judged window: canary vs stable"
            xyChart = {
              dataSets = [
                {
                  plotType        = "LINE"
                  legendTemplate  = "canary"
                  timeSeriesQuery = { timeSeriesFilter = { filter = local.rollout_chart_filters.canary_error_ratio, aggregation = local.rollout_mean_by_rollout } }
                },
                {
                  plotType        = "LINE"
                  legendTemplate  = "stable"
                  timeSeriesQuery = { timeSeriesFilter = { filter = local.rollout_chart_filters.stable_error_ratio, aggregation = local.rollout_mean_by_rollout } }
                },
              ]
              yAxis = { label = "5xx / requests", scale = "LINEAR" }
            }
          }
        },
        {
          xPos = 0, yPos = 4, width = 6, height = 4
          widget = {
            title = "E-value against its threshold (log scale)"
            xyChart = {
              dataSets = [
                {
                  plotType        = "LINE"
                  legendTemplate  = "e-value"
                  timeSeriesQuery = { timeSeriesFilter = { filter = local.rollout_chart_filters.e_value, aggregation = local.rollout_mean_by_rollout } }
                },
                {
                  plotType        = "LINE"
                  legendTemplate  = "threshold (1/alpha)"
                  timeSeriesQuery = { timeSeriesFilter = { filter = local.rollout_chart_filters.e_value_threshold, aggregation = local.rollout_mean_by_rollout } }
                },
              ]
              yAxis = { label = "e-value", scale = "LOG10" }
            }
          }
        },
        {
          xPos = 6, yPos = 4, width = 6, height = 4
          widget = {
            title = "Rollbacks by cause"
            xyChart = {
              dataSets = [{
                plotType = "STACKED_BAR"
                timeSeriesQuery = {
                  timeSeriesFilter = {
                    filter = local.rollout_chart_filters.rollbacks
                    aggregation = {
                      alignmentPeriod    = "3600s"
                      perSeriesAligner   = "ALIGN_SUM"
                      crossSeriesReducer = "REDUCE_SUM"
                      groupByFields      = ["metric.label.cause"]
                    }
                  }
                }
              }]
              yAxis = { label = "rollbacks per hour", scale = "LINEAR" }
            }
          }
        },
        {
          xPos = 0, yPos = 8, width = 12, height = 4
          widget = {
            title = "Rollouts waiting for a person (ActionRequired, or paused for a reason no one asked for)"
            xyChart = {
              dataSets = [{
                plotType = "STACKED_BAR"
                timeSeriesQuery = {
                  timeSeriesFilter = {
                    filter = local.rollout_chart_filters.needs_person
                    aggregation = {
                      alignmentPeriod    = "300s"
                      perSeriesAligner   = "ALIGN_SUM"
                      crossSeriesReducer = "REDUCE_SUM"
                      groupByFields      = ["metric.label.rollout_id", "metric.label.reason"]
                    }
                  }
                }
              }]
              yAxis = { label = "times asked", scale = "LINEAR" }
            }
          }
        },
      ]
    }
  }
}

resource "google_logging_metric" "rollout" {
  for_each = local.rollout_log_metrics

  name             = each.value.name
  description      = each.value.description
  filter           = each.value.filter
  value_extractor  = each.value.field == null ? null : "EXTRACT(${each.value.field})"
  label_extractors = { for key, field in each.value.labels : key => "EXTRACT(${field})" }

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = each.value.value_type
    unit         = each.value.unit
    display_name = "Rollout: ${replace(each.key, "_", " ")}"

    dynamic "labels" {
      for_each = each.value.labels
      content {
        key         = labels.key
        value_type  = "STRING"
        description = "Extracted from ${labels.value}."
      }
    }
  }

  dynamic "bucket_options" {
    for_each = each.value.value_type == "DISTRIBUTION" ? [each.value.bounds] : []
    content {
      explicit_buckets {
        bounds = bucket_options.value
      }
    }
  }

  depends_on = [google_project_service.api]
}

resource "google_monitoring_dashboard" "rollouts" {
  dashboard_json = jsonencode(local.rollout_dashboard)

  # The charts read the log-based metrics: create those first.
  depends_on = [google_logging_metric.rollout]
}

# An example policy: a rollout stopped and waits for a person (docs/day-2 runbooks per reason).
resource "google_monitoring_alert_policy" "rollout_needs_person" {
  display_name          = "Canary controller: a rollout needs a person"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = var.operator_notification_channels

  conditions {
    display_name = "rollout ActionRequired, or paused for a person"

    condition_threshold {
      filter          = local.rollout_chart_filters.needs_person
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.rollout_id", "metric.label.route", "metric.label.reason"]
      }

      trigger {
        count = 1
      }
      # No line is no news: nothing stopped.
      evaluation_missing_data = "EVALUATION_MISSING_DATA_INACTIVE"
    }
  }

  alert_strategy {
    # The count is an event, not a state: the incident closes by itself; the rollout stays stopped
    # until a person acts (rolloutctl status shows it).
    auto_close = "1800s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Rollout `$${metric.label.rollout_id}` on route `$${metric.label.route}` stopped and waits for a person (reason `$${metric.label.reason}`). See `rolloutctl status $${metric.label.rollout_id}` and the runbook for that reason in docs/; docs/observability.md describes this alert."
  }

  depends_on = [google_logging_metric.rollout]
}
