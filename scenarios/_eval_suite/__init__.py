"""The eval suite builder (scenarios/eval/): tasks, the scripted suite model and the driver."""
