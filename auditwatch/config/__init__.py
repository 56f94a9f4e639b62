"""Config plumbing: the located YAML loader, the spec helpers every stage's config section uses,
the shipped parser and rule directories, and the daemon's own config (`config.daemon`), which
gathers each stage's section. Import the submodules; this package exports nothing so that the
kernel modules (`spec`, `yamlsource`) never pull in the stages through it."""
