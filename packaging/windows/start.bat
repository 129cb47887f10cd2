@echo off
rem kkt-update-server: run in this window (Ctrl+C stops it). For everyday use install the
rem service instead: kkt-update-server.exe service install --config server.yaml
cd /d "%~dp0"
kkt-update-server.exe --config server.yaml
pause
