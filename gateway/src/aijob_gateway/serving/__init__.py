"""The gateway's other outside world, beside `kube/`: HTTP to the model server pods."""
