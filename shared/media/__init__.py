"""Media facts shared by the API and the workers: sniffing, probing, the voice catalog."""
