variable "project_id" {
  description = "Project of the mesh."
  type        = string
}

variable "region" {
  description = "Region of the Cloud Run services, serverless NEGs and subnet."
  type        = string
}

variable "name" {
  description = "Base name: the route is <name>, the backends <name>-stable and <name>-canary, the client <name>-client."
  type        = string
  default     = "checkout"
}

variable "domain" {
  description = "Private DNS domain; the route answers for <name>.<domain>."
  type        = string
  default     = "mesh.internal"
}

variable "stable_image" {
  description = "Container image of the stable backend; null runs the demo backend (backend.mjs on app_image)."
  type        = string
  default     = null
}

variable "canary_image" {
  description = "Container image of the canary backend; null runs the demo backend (backend.mjs on app_image)."
  type        = string
  default     = null
}

variable "app_image" {
  description = "Public Node.js image the demo backends and the load generator run their script on (no image build needed)."
  type        = string
  default     = "docker.io/library/node:22-alpine"
}

variable "faulty_error_ratio" {
  description = "Share of requests the faulty canary (<name>-faulty, always the demo backend) answers with a 500: a rollout to it is rolled back."
  type        = number
  default     = 0.1

  validation {
    condition     = var.faulty_error_ratio > 0 && var.faulty_error_ratio <= 1
    error_message = "faulty_error_ratio must be above 0 (the faulty canary must fail) and at most 1."
  }
}

variable "load_requests_per_second" {
  description = "Requests a second the load generator (<name>-load) sends to the route; 0: no load generator. At 10, a 10 % canary step gets about 60 canary requests a minute, above the judge's default minRequests (50) in every 60 s window."
  type        = number
  default     = 10

  validation {
    condition     = var.load_requests_per_second >= 0 && var.load_requests_per_second <= 100
    error_message = "load_requests_per_second must be between 0 (no load generator) and 100."
  }
}

variable "client_image" {
  description = "Container image of the mesh client."
  type        = string
}

variable "subnet_cidr" {
  description = "IP range of the subnet the client's Direct VPC egress uses."
  type        = string
  default     = "10.20.0.0/24"
}
