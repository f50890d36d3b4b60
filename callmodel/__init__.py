"""The call, shared by every stage: its model and tables (schema), date and time-zone rules (dates),
the one status rule (status), where things live (urls), French display (french), and the
`api/calls.json` codec (record). It depends on no other package of the project; the generator and
the form service both depend on it."""
