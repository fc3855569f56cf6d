"""The AIJob API: models of the resource shared by the operator, the gateway and the workers."""
