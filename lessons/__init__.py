"""Your code for the course, one folder per lesson. Each lesson imports only the lessons before it."""
