"""The operator's console: a Textual app over the engine's store and control API.

`tui.app.run_console(target, theme=...)` is the entry point; `engine/` never imports this
package.
"""
