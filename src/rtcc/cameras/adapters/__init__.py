"""Where the camera registry talks to devices: ONVIF discovery of media profiles and stream URIs."""
