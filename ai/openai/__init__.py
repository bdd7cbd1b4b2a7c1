"""The OpenAI analyzer (strict structured outputs) and its prompts."""
