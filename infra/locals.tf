# What the controller consists of, as data. Every resource that exists once per function, per
# trigger or per grant iterates over these maps, and test/infra/ checks them against
# functions/manifest.ts (it evaluates this file alone with `terraform console`, so it must not
# reference variables, resources or data sources).

locals {
  # TOPICS in functions/manifest.ts.
  topics = {
    requests = "rollout-requests"
    tick     = "rollout-tick"
    alerts   = "rollout-alerts"
    control  = "rollout-control"
    events   = "rollout-events"
    advance  = "rollout-advance"
  }

  # Where every push subscription sends a message it could not deliver.
  dead_letter_topic = "rollout-dead-letter"

  # ENTRY_POINTS in functions/manifest.ts: one Cloud Run function (2nd gen) each.
  #   short      the entry module's file name: names the function, its service accounts and its subscription
  #   trigger    the topic that triggers it, or "http"
  #   publishes  topics it may publish to
  #   uses       Google APIs it calls (drives the IAM grants below)
  functions = {
    startRollout = {
      short     = "start-rollout"
      trigger   = "rollout-requests"
      publishes = ["rollout-events"]
      uses      = ["firestore", "networkservices", "monitoring", "pubsub", "workflowexecutions"]
    }
    advanceRollout = {
      short     = "advance-rollout"
      trigger   = "http"
      publishes = ["rollout-events"]
      uses      = ["firestore", "networkservices", "monitoring", "pubsub"]
    }
    # Hands every due rollout out on rollout-advance; it changes none itself. It re-sends lost
    # lifecycle events from the outbox (functions/app/outbox.ts).
    tick = {
      short     = "tick"
      trigger   = "rollout-tick"
      publishes = ["rollout-advance", "rollout-events"]
      uses      = ["firestore", "pubsub"]
    }
    advanceDue = {
      short     = "advance-due"
      trigger   = "rollout-advance"
      publishes = ["rollout-events"]
      uses      = ["firestore", "networkservices", "monitoring", "pubsub"]
    }
    onAlert = {
      short     = "on-alert"
      trigger   = "rollout-alerts"
      publishes = ["rollout-events"]
      uses      = ["firestore", "networkservices", "monitoring", "pubsub"]
    }
    control = {
      short     = "control"
      trigger   = "rollout-control"
      publishes = ["rollout-events"]
      uses      = ["firestore", "networkservices", "monitoring", "pubsub", "workflowexecutions"]
    }
    controlHttp = {
      short     = "control-http"
      trigger   = "http"
      publishes = ["rollout-events"]
      uses      = ["firestore", "networkservices", "monitoring", "pubsub", "workflowexecutions"]
    }
  }

  # Functions fed by a topic: each gets its own push subscription (retry + dead letter) and push identity.
  pubsub_triggered = { for name, f in local.functions : name => f if f.trigger != "http" }

  # Functions called over HTTP (by the workflow, or by operators).
  http_triggered = { for name, f in local.functions : name => f if f.trigger == "http" }

  # Who holds roles/pubsub.publisher on each topic (infra/iam.tf, authoritative): the functions
  # whose `publishes` names it, and principals outside the controller by kind (iam.tf maps each
  # kind to members: ci = var.ci_principals, operators = var.operator_principals, and the two
  # Google service agents). Nobody else may publish to a topic.
  outside_publishers = {
    requests = ["ci"]
    control  = ["operators"]
    alerts   = ["monitoring_notification_agent"]
    tick     = ["cloud_scheduler_agent"]
  }
  topic_publishers = {
    for key, topic in local.topics : topic => {
      functions = sort([for name, f in local.functions : name if contains(f.publishes, topic)])
      outside   = lookup(local.outside_publishers, key, [])
    }
  }

  # Functions per Google API they call.
  firestore_users          = { for name, f in local.functions : name => f if contains(f.uses, "firestore") }
  networkservices_users    = { for name, f in local.functions : name => f if contains(f.uses, "networkservices") }
  monitoring_users         = { for name, f in local.functions : name => f if contains(f.uses, "monitoring") }
  workflowexecutions_users = { for name, f in local.functions : name => f if contains(f.uses, "workflowexecutions") }

  # Functions that carry out rollout decisions (every one that changes routes) and so call hooks
  # (docs/hooks.md): each mints ID tokens as the rollout-hooks service account.
  hook_callers = local.networkservices_users

  # The function the rollout workflow calls (the only one its service account may invoke).
  advance_function = "advanceRollout"

  # Exactly the Network Services permissions the route adapter needs: read, list and patch routes
  # of each Service Routing kind (HTTPRoute, GRPCRoute, TCPRoute, TLSRoute), poll the long-running
  # operation a patch returns, cancel one of its own that outlived its wait (before a later change
  # is confirmed over it), and list operations to find others' writes that ended while its own was
  # in flight (no route kind has an etag). ALLOWED_ROUTES still decides which routes it may touch.
  route_editor_permissions = [
    "networkservices.grpcRoutes.get",
    "networkservices.grpcRoutes.list",
    "networkservices.grpcRoutes.update",
    "networkservices.httpRoutes.get",
    "networkservices.httpRoutes.list",
    "networkservices.httpRoutes.update",
    "networkservices.tcpRoutes.get",
    "networkservices.tcpRoutes.list",
    "networkservices.tcpRoutes.update",
    "networkservices.tlsRoutes.get",
    "networkservices.tlsRoutes.list",
    "networkservices.tlsRoutes.update",
    "networkservices.operations.cancel",
    "networkservices.operations.get",
    "networkservices.operations.list",
  ]

  # Read-only Monitoring: the analysis reads time series; onAlert reads the project's alert
  # policies (which incidents to trust, mapped by the labels Monitoring holds).
  metrics_reader_permissions = [
    "monitoring.alertPolicies.get",
    "monitoring.alertPolicies.list",
    "monitoring.timeSeries.list",
  ]
}
