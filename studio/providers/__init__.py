"""AI, voice and image providers: the offline default and HTTP services (see ``base``)."""
