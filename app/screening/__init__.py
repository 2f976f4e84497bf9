"""Pure negative-list screening against 《政府购买服务管理办法》第十条 (no I/O)."""
