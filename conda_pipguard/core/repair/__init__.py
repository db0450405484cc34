"""Recovery: findings to an ordered plan of exact commands, its executor, and the export."""
