"""The wire contract: every byte that crosses a process boundary is defined here.

* :mod:`.scale`    the SIPAS 5-level scale, stages and channels;
* :mod:`.topics`   MQTT topic names (versioned);
* :mod:`.messages` JSON payloads (ratings, acknowledgements, unit configuration);
* :mod:`.receipt`  dossier codes and the signed receipt URL printed in the QR;
* :mod:`.dossier_feed` the per-dossier export other systems take (docs/data-out.md).
"""
