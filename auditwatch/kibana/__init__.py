"""Kibana assets for reviewers: saved objects built from readable sources, checked offline, installed
through Kibana's saved-objects import API."""
