"""Chatbots on the server: triggers, storage, the REST controller and the live adapter."""
