"""Autoscaling by KEDA's rules: the ScaledObject as data, the replica rule, the metric sources,
and the record the local autoscaler publishes for the API and the metrics."""
