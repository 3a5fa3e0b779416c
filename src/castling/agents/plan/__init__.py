"""The plan strategy: planner → executor (decide, act) → re-planner, with schema-constrained model calls.

See README.md here. The facade imports `castling.agents.plan.strategy.PlanStrategy`; the other modules are its parts.
"""
