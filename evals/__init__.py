"""Evaluation suite: question/answer pairs over the bundled decisions, metrics, a LangChain
baseline to beat, thresholds that fail CI on regression, and a Markdown report."""
