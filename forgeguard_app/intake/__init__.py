"""The project intake: sections and schemas, the questionnaire, state store, memory, contracts."""
