"""hookchain for agents: the MCP server (tools over the event log, the rules and the chain)."""
