"""On-call notifiers: webhook, Slack, PagerDuty and e-mail deliveries of grouped alerts."""
