"""The chat's stylesheet (Textual CSS): the chat on the left, the article reader on the right when open.

A Python module rather than a .tcss file so that it installs with tui.py wherever tui.py goes: a wheel
carries top-level modules but not the data files beside them, and Textual refuses to start without its
CSS_PATH file.
"""

CSS = """
#body {
    height: 1fr;
}

#chat {
    width: 1fr;
    padding: 0 1;
}

#reader {
    display: none;
    width: 1fr;
    padding: 0 1;
    border-left: vkey $primary;
}

#reader:focus {
    border-left: vkey $accent;
}

.welcome {
    color: $text-muted;
    margin: 1 0 0 0;
}

.system {
    color: $text-muted;
    margin: 1 0 0 0;
}

.error {
    color: $text-error;
    margin: 1 0 0 0;
}

.exchange {
    height: auto;
    margin: 1 0 0 0;
}

.question {
    color: $text-primary;
    text-style: bold;
}

.pending {
    color: $text-muted;
    text-style: italic;
    padding-left: 2;
}

.card {
    margin: 1 0 0 0;
    padding: 0 1;
    border-left: thick $success;
    background: $boost;
}

.card:focus {
    background: $accent 20%;
    border-left: thick $accent;
}

.no-answer {
    margin: 1 0 0 0;
    padding: 0 1;
    border-left: thick $warning;
    color: $text-warning;
    text-style: bold;
}

.heading {
    color: $text-muted;
    padding-left: 2;
    margin: 1 0 0 0;
}

SourceLink.link {
    padding-left: 2;
    text-wrap: nowrap;
    text-overflow: ellipsis;
}

SourceLink.link:hover, SourceLink.card:hover {
    background: $boost;
}

SourceLink.link:focus {
    background: $accent 30%;
}

.reader-title {
    margin: 1 0 0 0;
}

.reader-meta {
    margin: 0 0 1 0;
}

.para {
    margin: 0 0 1 0;
}

#status {
    display: none;
    height: 1;
    padding: 0 1;
}

#status-label {
    width: auto;
    margin-right: 2;
    color: $text-muted;
}

#question {
    margin: 0 1;
}

HelpScreen {
    align: center middle;
}

#help {
    width: auto;
    max-width: 95%;
    height: auto;
    padding: 1 2;
    border: round $primary;
    background: $surface;
}

#help > Static {
    width: auto;
}

#help .title {
    text-style: bold;
    margin: 0 0 1 0;
}

#help .hint {
    color: $text-muted;
}
"""
