# The two commands: `make demo` runs the app on its embedded default; `make test` runs everything CI runs.
.PHONY: demo test bootstrap

bootstrap:
	scripts/bootstrap

demo: bootstrap
	.venv/bin/frontdesk --demo $(ARGS)

test:
	scripts/test
