# An example of what the controller manages: a Cloud Service Mesh on Cloud Run.
#
#   client, load generator (Cloud Run, joined to the mesh) ──http://<name>.<domain>──▶ HTTPRoute <name>
#       ──weights──▶ backend service <name>-stable ─▶ serverless NEG ─▶ Cloud Run <name>-stable
#                ├─▶ backend service <name>-canary ─▶ serverless NEG ─▶ Cloud Run <name>-canary
#                └─▶ backend service <name>-faulty ─▶ serverless NEG ─▶ Cloud Run <name>-faulty
#
# The route starts with 100 % on stable; the controller adds the canary destination and moves
# the weights, which is why Terraform ignores later changes to the route's rules. A first rollout
# to <name>-faulty (a share of its answers are 5xx) is rolled back; one to <name>-canary is
# promoted (docs/examples/first-rollout-*.json). The load generator gives the judge the traffic
# it needs (var.load_requests_per_second).

locals {
  # Role → its image (null: the demo backend, backend.mjs on var.app_image) and the share of
  # requests the demo backend answers with a 500.
  backends = {
    stable = { image = var.stable_image, error_ratio = 0 }
    canary = { image = var.canary_image, error_ratio = 0 }
    faulty = { image = null, error_ratio = var.faulty_error_ratio }
  }
  # How the public Node image runs a script of this module without an image build.
  node_command = ["node"]
  hostname     = "${var.name}.${var.domain}"
  # The form rollout requests and the controller use for backend services.
  backend_names = {
    for role, _ in local.backends :
    role => "projects/${var.project_id}/locations/global/backendServices/${var.name}-${role}"
  }
}

resource "google_network_services_mesh" "mesh" {
  name        = "${var.name}-mesh"
  description = "Example mesh for canary rollouts of ${var.name}."
}

# --- Network: the client reaches the route's hostname through its VPC -------------------------

resource "google_compute_network" "mesh" {
  name                    = "${var.name}-mesh"
  auto_create_subnetworks = false
}

resource "google_compute_subnetwork" "mesh" {
  name                     = "${var.name}-mesh-${var.region}"
  region                   = var.region
  network                  = google_compute_network.mesh.id
  ip_cidr_range            = var.subnet_cidr
  private_ip_google_access = true
}

# Mesh hostnames must resolve; any RFC 1918 address does, since the mesh proxy captures the
# traffic and routes it by hostname.
resource "google_dns_managed_zone" "mesh" {
  name        = "${var.name}-mesh"
  dns_name    = "${var.domain}."
  description = "Hostnames of the ${var.name} mesh."
  visibility  = "private"

  private_visibility_config {
    networks {
      network_url = google_compute_network.mesh.id
    }
  }
}

resource "google_dns_record_set" "mesh" {
  name         = "*.${var.domain}."
  managed_zone = google_dns_managed_zone.mesh.name
  type         = "A"
  ttl          = 300
  rrdatas      = ["10.0.0.1"]
}

# --- Destinations: stable and canary ----------------------------------------------------------

resource "google_service_account" "backend" {
  account_id   = "${var.name}-backend"
  display_name = "Example mesh backends (${var.name}); no roles"
}

resource "google_cloud_run_v2_service" "backend" {
  for_each = local.backends

  name                = "${var.name}-${each.key}"
  location            = var.region
  ingress             = "INGRESS_TRAFFIC_ALL"
  deletion_protection = false

  template {
    service_account = google_service_account.backend.email
    containers {
      image   = coalesce(each.value.image, var.app_image)
      command = each.value.image == null ? local.node_command : null
      args    = each.value.image == null ? ["--input-type=module", "-e", file("${path.module}/backend.mjs")] : null
      env {
        name  = "VERSION"
        value = each.key
      }
      env {
        name  = "ERROR_RATIO"
        value = tostring(each.value.error_ratio)
      }
    }
  }
}

resource "google_compute_region_network_endpoint_group" "backend" {
  for_each = local.backends

  name                  = "${var.name}-${each.key}"
  region                = var.region
  network_endpoint_type = "SERVERLESS"

  cloud_run {
    service = google_cloud_run_v2_service.backend[each.key].name
  }
}

# Named like the Cloud Run service, so the controller's cloudRun metrics preset finds the
# service's request metrics from the backend name alone.
resource "google_compute_backend_service" "backend" {
  for_each = local.backends

  name                  = "${var.name}-${each.key}"
  load_balancing_scheme = "INTERNAL_SELF_MANAGED"
  protocol              = "HTTP"

  backend {
    group = google_compute_region_network_endpoint_group.backend[each.key].id
  }
}

resource "google_network_services_http_route" "route" {
  name        = var.name
  description = "Example route managed by the canary controller."
  hostnames   = [local.hostname]
  meshes      = [google_network_services_mesh.mesh.id]

  rules {
    action {
      destinations {
        service_name = local.backend_names["stable"]
        weight       = 100
      }
    }
  }

  lifecycle {
    # The controller owns the weights (and any rules people add by hand stay theirs).
    ignore_changes = [rules]
  }

  depends_on = [google_compute_backend_service.backend]
}

# --- The client: a Cloud Run service joined to the mesh ---------------------------------------

resource "google_service_account" "client" {
  account_id   = "${var.name}-client"
  display_name = "Example mesh client (${var.name})"
}

# Without this role the client's mesh proxy cannot fetch its configuration from Cloud Service
# Mesh, never becomes ready, and the instance does not start.
resource "google_project_iam_member" "client_mesh" {
  project = var.project_id
  role    = "roles/trafficdirector.client"
  member  = google_service_account.client.member
}

# The mesh authenticates the client's requests to the destinations as the client's identity.
resource "google_cloud_run_v2_service_iam_member" "client_invokes" {
  for_each = local.backends

  location = var.region
  name     = google_cloud_run_v2_service.backend[each.key].name
  role     = "roles/run.invoker"
  member   = google_service_account.client.member
}

# A service that joins a mesh created moments before may not get its configuration: wait a minute
# after the mesh exists, as the provider's own Cloud Run service_mesh example does.
resource "time_sleep" "mesh_ready" {
  create_duration = "60s"

  depends_on = [google_network_services_mesh.mesh]
}

resource "google_cloud_run_v2_service" "client" {
  provider = google-beta

  name                = "${var.name}-client"
  location            = var.region
  ingress             = "INGRESS_TRAFFIC_ALL"
  launch_stage        = "BETA"
  deletion_protection = false

  template {
    service_account = google_service_account.client.email

    containers {
      image = var.client_image
      env {
        name  = "TARGET_URL"
        value = "http://${local.hostname}"
      }
    }

    vpc_access {
      network_interfaces {
        network    = google_compute_network.mesh.name
        subnetwork = google_compute_subnetwork.mesh.name
      }
      egress = "ALL_TRAFFIC"
    }

    service_mesh {
      mesh = google_network_services_mesh.mesh.id
    }
  }

  depends_on = [
    time_sleep.mesh_ready,
    google_project_iam_member.client_mesh,
    google_network_services_http_route.route,
    google_dns_record_set.mesh,
  ]
}

# --- The load generator: the traffic the judge needs ----------------------------------------------

# Sends var.load_requests_per_second requests a second to the route's hostname through the mesh,
# from one always-on instance (instance-based billing: its CPU runs between requests). Same
# identity as the client: roles/trafficdirector.client and run.invoker on the backends.
resource "google_cloud_run_v2_service" "load" {
  provider = google-beta
  count    = var.load_requests_per_second > 0 ? 1 : 0

  name                = "${var.name}-load"
  location            = var.region
  ingress             = "INGRESS_TRAFFIC_ALL"
  launch_stage        = "BETA"
  deletion_protection = false

  template {
    service_account = google_service_account.client.email

    scaling {
      min_instance_count = 1
      max_instance_count = 1
    }

    containers {
      image   = var.app_image
      command = local.node_command
      args    = ["--input-type=module", "-e", file("${path.module}/load.mjs")]
      env {
        name  = "TARGET_URL"
        value = "http://${local.hostname}"
      }
      env {
        name  = "REQUESTS_PER_SECOND"
        value = tostring(var.load_requests_per_second)
      }
      resources {
        cpu_idle = false
        limits = {
          cpu    = "1"
          memory = "512Mi"
        }
      }
    }

    vpc_access {
      network_interfaces {
        network    = google_compute_network.mesh.name
        subnetwork = google_compute_subnetwork.mesh.name
      }
      egress = "ALL_TRAFFIC"
    }

    service_mesh {
      mesh = google_network_services_mesh.mesh.id
    }
  }

  depends_on = [
    time_sleep.mesh_ready,
    google_project_iam_member.client_mesh,
    google_network_services_http_route.route,
    google_dns_record_set.mesh,
  ]
}
