"""Applications: what a task feeds the network and does with its outputs."""
