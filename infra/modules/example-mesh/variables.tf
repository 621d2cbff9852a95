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
  description = "Container image of the stable backend."
  type        = string
}

variable "canary_image" {
  description = "Container image of the canary backend."
  type        = string
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
