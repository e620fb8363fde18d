"""vocu-bot: the platform-agnostic core. Never imports a chat library."""
