"""Where incidents meet the outside world: CAD exports (CSV) and the folder a CAD drops them in."""
