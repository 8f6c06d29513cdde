"""The Slack surface: a Bolt app that routes /mesh commands, mentions, DMs and threads to the handlers."""
