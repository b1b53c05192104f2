"""The onboarding pipeline's domain logic: what each step does, testable without Prefect."""
