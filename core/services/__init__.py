"""Use cases: one function per thing a person does, each taking its dependencies as arguments."""
